using System.Globalization;

namespace Kslurm;

// Values: dispatch on the first character, then arrays, inline tables, booleans, numbers and
// dates/times. Every check that .NET's own parsers would be laxer about is done by hand here.
internal sealed partial class TomlReader
{
    object ReadValue()
    {
        int c = Cur;
        switch (c)
        {
            case '"' or '\'':
                if (Peek(1) == c && Peek(2) == c) return ReadMultilineString((char)c);
                return c == '"' ? ReadBasicString() : ReadLiteralString();
            case '[':
                return Nested(ReadArray);
            case '{':
                return Nested(ReadInlineTable);
            case 't' or 'f':
                return ReadBool();
            case (>= '0' and <= '9') or '+' or '-' or 'i' or 'n':
                if (AtDateStart() || AtTimeStart()) return ReadDateTime();
                return ReadNumber();
            case -1 or '\n' or '\r':
                throw Error(pos, $"expected a value, found {Describe(pos)}");
            default:
                if (!IsBareKeyChar((char)c)) throw Error(pos, $"expected a value, found {Describe(pos)}");
                int start = pos;
                throw Error(start, $"invalid value \"{ReadBareWord()}\" (strings must be quoted)");
        }
    }

    T Nested<T>(Func<T> read)
    {
        if (++depth > MaxDepth) throw Error(pos, $"arrays and inline tables nested deeper than {MaxDepth} levels");
        var value = read();
        depth--;
        return value;
    }

    TomlArray ReadArray()
    {
        int start = pos++;
        var array = new TomlArray();
        while (true)
        {
            SkipSpacesCommentsNewlines();
            if (Cur == ']') { pos++; return array; }
            if (pos >= text.Length) throw Error(start, "unterminated array: no closing ']'");
            array.Add(ReadValue());
            SkipSpacesCommentsNewlines();
            if (Cur == ',') { pos++; continue; }
            if (Cur == ']') { pos++; return array; }
            throw pos >= text.Length
                ? Error(start, "unterminated array: no closing ']'")
                : Error(pos, $"expected ',' or ']' after array element, found {Describe(pos)}");
        }
    }

    // TOML 1.0 inline tables sit on one line, have no trailing comma, and are closed once read.
    TomlTable ReadInlineTable()
    {
        int start = pos++;
        var table = new TomlTable();
        origins[table] = Origin.Inline;
        SkipSpaces();
        if (Cur == '}') { pos++; return table; }
        while (true)
        {
            SkipSpaces();
            ReadKeyValue(table);
            SkipSpaces();
            if (Cur == '}') { pos++; return table; }
            if (Cur == ',')
            {
                pos++;
                SkipSpaces();
                if (Cur == '}') throw Error(pos, "trailing comma is not allowed in an inline table");
                continue;
            }
            throw pos >= text.Length ? Error(start, "unterminated inline table: no closing '}'")
                : Cur is '\n' or '\r' ? Error(pos, "an inline table must be written on a single line")
                : Error(pos, $"expected ',' or '}}' after inline table entry, found {Describe(pos)}");
        }
    }

    bool ReadBool()
    {
        int start = pos;
        string word = ReadBareWord();
        return word switch
        {
            "true" => true,
            "false" => false,
            _ => throw Error(start, $"invalid value \"{word}\" (booleans are lowercase true or false; strings need quotes)"),
        };
    }

    // The run of characters a number, boolean or inf/nan can be made of; anything unexpected in
    // it makes the whole word invalid rather than leaving a confusing tail.
    string ReadBareWord()
    {
        int start = pos;
        while (pos < text.Length && (IsBareKeyChar(text[pos]) || text[pos] is '+' or '.')) pos++;
        return text[start..pos];
    }

    // ---- numbers ---------------------------------------------------------------------------

    object ReadNumber()
    {
        int start = pos;
        string word = ReadBareWord();
        switch (word)
        {
            case "inf" or "+inf": return double.PositiveInfinity;
            case "-inf": return double.NegativeInfinity;
            case "nan" or "+nan" or "-nan": return double.NaN;
        }
        if (word.Length == 0 || char.IsAsciiLetter(word[0]))
            throw Error(start, $"invalid value \"{word}\" (strings must be quoted)");
        int i = word[0] is '+' or '-' ? 1 : 0;
        if (word.Length > i + 1 && word[i] == '0' && word[i + 1] is 'x' or 'o' or 'b')
        {
            if (i > 0) throw Error(start, $"invalid integer \"{word}\": hex, octal and binary integers take no sign");
            return ReadRadixInteger(word, start);
        }

        // Decimal: int-part [ "." digits ] [ ("e"|"E") [sign] digits ], underscores only between digits.
        int p = i;
        if (!ScanDigits(word, ref p, 10))
            throw Error(start, $"invalid number \"{word}\"");
        if (word[i] == '0' && p - i > 1)
            throw Error(start, $"invalid number \"{word}\": leading zeros are not allowed");
        bool isFloat = false;
        if (p < word.Length && word[p] == '.')
        {
            p++;
            if (!ScanDigits(word, ref p, 10))
                throw Error(start, $"invalid float \"{word}\": a digit must follow the decimal point");
            isFloat = true;
        }
        if (p < word.Length && word[p] is 'e' or 'E')
        {
            p++;
            if (p < word.Length && word[p] is '+' or '-') p++;
            if (!ScanDigits(word, ref p, 10))
                throw Error(start, $"invalid float \"{word}\": the exponent needs digits");
            isFloat = true;
        }
        if (p != word.Length)
            throw Error(start, $"invalid number \"{word}\"");

        string digits = word.Replace("_", "");
        if (isFloat)
            return double.Parse(digits, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);
        if (!long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            throw Error(start, $"integer \"{word}\" does not fit in 64 bits");
        return value;
    }

    long ReadRadixInteger(string word, int start)
    {
        int radix = word[1] switch { 'x' => 16, 'o' => 8, _ => 2 };
        int p = 2;
        if (!ScanDigits(word, ref p, radix) || p != word.Length)
            throw Error(start, $"invalid {(radix == 16 ? "hexadecimal" : radix == 8 ? "octal" : "binary")} integer \"{word}\"");
        ulong value = 0;
        foreach (char c in word.AsSpan(2))
        {
            if (c == '_') continue;
            value = value * (ulong)radix + (ulong)HexValue(c);
            if (value > long.MaxValue)
                throw Error(start, $"integer \"{word}\" does not fit in 64 bits");
        }
        return (long)value;
    }

    // digit *( ["_"] digit ) in the given radix, advancing p; false if that is not what is there.
    static bool ScanDigits(string s, ref int p, int radix)
    {
        if (!IsDigit(s, p, radix)) return false;
        p++;
        while (p < s.Length)
        {
            if (s[p] == '_')
            {
                if (!IsDigit(s, p + 1, radix)) return false;
                p += 2;
            }
            else if (IsDigit(s, p, radix)) p++;
            else break;
        }
        return true;
    }

    static bool IsDigit(string s, int p, int radix)
    {
        if (p >= s.Length) return false;
        int d = HexValue(s[p]);
        return d >= 0 && d < radix;
    }

    // ---- dates and times --------------------------------------------------------------------

    bool DigitAt(int offset) => Peek(offset) is >= '0' and <= '9';

    // A value starting "dddd-" is a date and "dd:" a time; numbers can never look like that.
    bool AtDateStart() => DigitAt(0) && DigitAt(1) && DigitAt(2) && DigitAt(3) && Peek(4) == '-';

    bool AtTimeStart() => DigitAt(0) && DigitAt(1) && Peek(2) == ':';

    TomlDateTime ReadDateTime()
    {
        int start = pos;
        int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offset = 0;
        string fraction = "";
        bool hasDate = AtDateStart(), hasTime = !hasDate, hasOffset = false;
        if (hasDate)
        {
            year = Fixed(4, start);
            Expect('-', start);
            month = Fixed(2, start);
            Expect('-', start);
            day = Fixed(2, start);
            // The time may follow after 'T' or, for readability, a single space.
            if (Cur is 'T' or 't' || (Cur == ' ' && DigitAt(1)))
            {
                pos++;
                hasTime = true;
            }
        }
        if (hasTime)
        {
            hour = Fixed(2, start);
            Expect(':', start);
            minute = Fixed(2, start);
            Expect(':', start);
            second = Fixed(2, start);
            if (Cur == '.')
            {
                pos++;
                int f = pos;
                while (DigitAt(0)) pos++;
                if (pos == f) throw DateError(start, "a digit must follow the decimal point");
                fraction = text[f..pos];
            }
        }
        if (hasDate && hasTime)
        {
            if (Cur is 'Z' or 'z')
            {
                pos++;
                hasOffset = true;
            }
            else if (Cur is '+' or '-')
            {
                int sign = Cur == '-' ? -1 : 1;
                pos++;
                int oh = Fixed(2, start);
                Expect(':', start);
                int om = Fixed(2, start);
                if (oh > 23 || om > 59) throw DateError(start, "offset must be within ±23:59");
                offset = sign * (oh * 60 + om);
                hasOffset = true;
            }
        }
        // Anything glued to the literal (e.g. "07:32:00.5x", "1979-05-27T") makes it invalid.
        if (pos < text.Length && (IsBareKeyChar(text[pos]) || text[pos] is '.' or ':' or '+'))
            throw DateError(start, $"unexpected {Describe(pos)}");

        var kind = !hasDate ? TomlDateTimeKind.LocalTime
            : !hasTime ? TomlDateTimeKind.LocalDate
            : hasOffset ? TomlDateTimeKind.OffsetDateTime
            : TomlDateTimeKind.LocalDateTime;
        if (hasDate && (month is < 1 or > 12 || day < 1 || day > TomlDateTime.DaysInMonth(year, month)))
            throw DateError(start, month is < 1 or > 12 ? "month must be 01..12" : $"{year:D4}-{month:D2} has no day {day:D2}");
        if (hasTime && (hour > 23 || minute > 59 || second > 60))
            throw DateError(start, hour > 23 ? "hour must be 00..23" : minute > 59 ? "minute must be 00..59" : "second must be 00..60");
        return new TomlDateTime(kind, year, month, day, hour, minute, second, fraction, offset);
    }

    int Fixed(int count, int start)
    {
        int value = 0;
        for (int i = 0; i < count; i++)
        {
            if (!DigitAt(0))
                throw DateError(start, $"expected {count} digits at {Describe(pos)} (dates are YYYY-MM-DD, times HH:MM:SS)");
            value = value * 10 + (text[pos++] - '0');
        }
        return value;
    }

    void Expect(char c, int start)
    {
        if (Cur != c) throw DateError(start, $"expected '{c}', found {Describe(pos)}");
        pos++;
    }

    TomlException DateError(int start, string problem)
    {
        // Show the whole literal, including a time after a space separator.
        int end = start;
        while (end < text.Length && (IsBareKeyChar(text[end]) || text[end] is '.' or ':' or '+' ||
               (text[end] == ' ' && end - start == 10 && end + 1 < text.Length && char.IsAsciiDigit(text[end + 1])))) end++;
        return Error(start, $"invalid date/time \"{text[start..end]}\": {problem}");
    }
}
