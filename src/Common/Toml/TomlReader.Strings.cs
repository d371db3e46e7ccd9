using System.Text;

namespace Kslurm;

// The four string forms: "basic" and 'literal', each single-line or multi-line (""" / ''').
internal sealed partial class TomlReader
{
    string ReadBasicString()
    {
        int start = pos++;
        buffer.Clear();
        while (true)
        {
            if (pos >= text.Length || text[pos] == '\n' || (text[pos] == '\r' && Peek(1) == '\n'))
                throw Error(start, "unterminated string: no closing '\"' on this line (use \"\"\" for multi-line strings)");
            char c = text[pos];
            if (c == '"') { pos++; return buffer.ToString(); }
            if (c == '\\') ReadEscape(multiline: false);
            else AppendTextChar("string");
        }
    }

    string ReadLiteralString()
    {
        int start = pos++;
        buffer.Clear();
        while (true)
        {
            if (pos >= text.Length || text[pos] == '\n' || (text[pos] == '\r' && Peek(1) == '\n'))
                throw Error(start, "unterminated literal string: no closing \"'\" on this line");
            if (text[pos] == '\'') { pos++; return buffer.ToString(); }
            AppendTextChar("literal string");
        }
    }

    // Multi-line forms. A newline right after the opening delimiter is dropped, newlines are kept
    // (CRLF read as LF), and up to two quote characters may sit right before the closing delimiter.
    string ReadMultilineString(char quote)
    {
        int start = pos;
        pos += 3;
        buffer.Clear();
        if (Cur == '\n') pos++;
        else if (Cur == '\r' && Peek(1) == '\n') pos += 2;
        string what = quote == '"' ? "multi-line string" : "multi-line literal string";
        while (true)
        {
            if (pos >= text.Length)
                throw Error(start, $"unterminated {what}: no closing {quote}{quote}{quote}");
            char c = text[pos];
            if (c == quote)
            {
                int run = 0;
                while (pos + run < text.Length && text[pos + run] == quote) run++;
                if (run < 3)
                {
                    buffer.Append(quote, run);
                    pos += run;
                    continue;
                }
                if (run > 5)
                    throw Error(pos + 5, $"too many {quote} characters at the end of a {what}");
                buffer.Append(quote, run - 3);
                pos += run;
                return buffer.ToString();
            }
            if (c == '\n') { buffer.Append('\n'); pos++; }
            else if (c == '\r' && Peek(1) == '\n') { buffer.Append('\n'); pos += 2; }
            else if (c == '\\' && quote == '"') ReadEscape(multiline: true);
            else AppendTextChar(what);
        }
    }

    // Copies one character (two for a surrogate pair) after checking it is allowed in a string.
    void AppendTextChar(string where)
    {
        CheckTextChar(where);
        int length = char.IsHighSurrogate(text[pos]) ? 2 : 1;
        buffer.Append(text, pos, length);
        pos += length;
    }

    void ReadEscape(bool multiline)
    {
        int start = pos++;
        int c = Cur;
        switch (c)
        {
            case 'b': buffer.Append('\b'); break;
            case 't': buffer.Append('\t'); break;
            case 'n': buffer.Append('\n'); break;
            case 'f': buffer.Append('\f'); break;
            case 'r': buffer.Append('\r'); break;
            case '"': buffer.Append('"'); break;
            case '\\': buffer.Append('\\'); break;
            case 'u':
            case 'U':
                ReadUnicodeEscape(start, c == 'u' ? 4 : 8);
                return;
            case ' ' or '\t' or '\n' or '\r' when multiline:
                SkipLineEndingBackslash(start);
                return;
            default:
                if (c is -1 or '\n' or '\r')
                    throw Error(start, "unterminated string: backslash at end of line");
                throw Error(start, (c < 0x20 || c == 0x7F ? $"invalid escape sequence: backslash followed by {Describe(pos)}"
                    : $"invalid escape sequence '\\{(char)c}'") + " (valid: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)");
        }
        pos++;
    }

    void ReadUnicodeEscape(int start, int digits)
    {
        pos++;
        int value = 0;
        for (int i = 0; i < digits; i++)
        {
            int d = HexValue(Cur);
            if (d < 0)
                throw Error(pos, $"expected {digits} hex digits in '\\{text[start + 1]}' escape, found {Describe(pos)}");
            value = (value << 4) | d;
            pos++;
        }
        // 8 hex digits can exceed int range; a negative value is out of range too.
        if (value < 0 || !Rune.IsValid(value))
            throw Error(start, $"escape '{text[start..pos]}' is not a Unicode scalar value");
        buffer.Append(new Rune(value).ToString());
    }

    // A backslash ending a line in a """ string removes it and all whitespace and newlines up to
    // the next visible character.
    void SkipLineEndingBackslash(int start)
    {
        SkipSpaces();
        if (Cur == '\n') pos++;
        else if (Cur == '\r' && Peek(1) == '\n') pos += 2;
        else throw Error(start, "a backslash followed by spaces must end the line (line-ending backslash)");
        while (true)
        {
            SkipSpaces();
            if (Cur == '\n') pos++;
            else if (Cur == '\r' && Peek(1) == '\n') pos += 2;
            else return;
        }
    }

    static int HexValue(int c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
