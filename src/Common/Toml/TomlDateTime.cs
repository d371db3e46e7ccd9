using System.Globalization;
using System.Text;

namespace Kslurm;

/// <summary>
/// A TOML date/time value of any of the four kinds. Unlike DateTime/DateTimeOffset it keeps the
/// kind and the fractional-second digits exactly as written (TOML allows more precision than a
/// tick), so a value read from a file is written back unchanged.
/// </summary>
public sealed class TomlDateTime : IEquatable<TomlDateTime>
{
    public TomlDateTimeKind Kind { get; }
    public int Year { get; }
    public int Month { get; }
    public int Day { get; }
    public int Hour { get; }
    public int Minute { get; }

    /// <summary>0..60 (60 only for a leap second).</summary>
    public int Second { get; }

    /// <summary>Fractional-second digits as written, without the dot ("" when there were none).</summary>
    public string Fraction { get; }

    /// <summary>Offset from UTC in minutes; 0 unless <see cref="Kind"/> is OffsetDateTime.</summary>
    public int OffsetMinutes { get; }

    public bool HasDate => Kind != TomlDateTimeKind.LocalTime;
    public bool HasTime => Kind != TomlDateTimeKind.LocalDate;
    public bool HasOffset => Kind == TomlDateTimeKind.OffsetDateTime;

    // Fields not used by the kind are forced to zero so equality only sees what the kind carries.
    internal TomlDateTime(TomlDateTimeKind kind, int year, int month, int day, int hour, int minute,
        int second, string fraction, int offsetMinutes)
    {
        Kind = kind;
        bool date = kind != TomlDateTimeKind.LocalTime, time = kind != TomlDateTimeKind.LocalDate;
        Year = date ? year : 0;
        Month = date ? month : 0;
        Day = date ? day : 0;
        Hour = time ? hour : 0;
        Minute = time ? minute : 0;
        Second = time ? second : 0;
        Fraction = time ? fraction : "";
        OffsetMinutes = kind == TomlDateTimeKind.OffsetDateTime ? offsetMinutes : 0;
        if (Check(this) is { } problem)
            throw new ArgumentOutOfRangeException(null, problem);
    }

    /// <summary>Parses one TOML date/time literal (any kind); throws TomlException when invalid.</summary>
    public static TomlDateTime Parse(string text) => TomlReader.ReadDateTimeLiteral(text);

    public static TomlDateTime FromDateTimeOffset(DateTimeOffset value) => new(
        TomlDateTimeKind.OffsetDateTime, value.Year, value.Month, value.Day, value.Hour, value.Minute,
        value.Second, TickFraction(value.Ticks), (int)value.Offset.TotalMinutes);

    /// <summary>A local date-time; the DateTime's Kind (UTC/Local) is not recorded.</summary>
    public static TomlDateTime FromDateTime(DateTime value) => new(
        TomlDateTimeKind.LocalDateTime, value.Year, value.Month, value.Day, value.Hour, value.Minute,
        value.Second, TickFraction(value.Ticks), 0);

    public static TomlDateTime FromDate(DateOnly value) =>
        new(TomlDateTimeKind.LocalDate, value.Year, value.Month, value.Day, 0, 0, 0, "", 0);

    public static TomlDateTime FromTime(TimeOnly value) => new(
        TomlDateTimeKind.LocalTime, 0, 0, 0, value.Hour, value.Minute, value.Second,
        TickFraction(value.Ticks), 0);

    /// <summary>Only for OffsetDateTime. Digits beyond 100 ns are dropped.</summary>
    public DateTimeOffset ToDateTimeOffset()
    {
        Require(HasOffset, "an offset date-time");
        var local = ToDateTime();
        return new DateTimeOffset(local, TimeSpan.FromMinutes(OffsetMinutes));
    }

    /// <summary>The wall-clock date and time (offset ignored). Not for local dates or times.</summary>
    public DateTime ToDateTime()
    {
        Require(HasDate && HasTime, "a date-time");
        // A leap second (:60) becomes the first instant of the next minute.
        var value = new DateTime(Year, Month, Day, Hour, Minute, Math.Min(Second, 59), DateTimeKind.Unspecified);
        return value.AddTicks(FractionTicks() + (Second == 60 ? TimeSpan.TicksPerSecond : 0));
    }

    public DateOnly ToDateOnly()
    {
        Require(HasDate, "a date");
        return new DateOnly(Year, Month, Day);
    }

    public TimeOnly ToTimeOnly()
    {
        Require(HasTime, "a time");
        return new TimeOnly(Hour, Minute, Math.Min(Second, 59)).Add(TimeSpan.FromTicks(FractionTicks()));
    }

    /// <summary>The TOML literal: 'T' separator, 'Z' for a zero offset, fraction digits as written.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(40);
        var inv = CultureInfo.InvariantCulture;
        if (HasDate)
            sb.Append(inv, $"{Year:D4}-{Month:D2}-{Day:D2}");
        if (HasDate && HasTime)
            sb.Append('T');
        if (HasTime)
        {
            sb.Append(inv, $"{Hour:D2}:{Minute:D2}:{Second:D2}");
            if (Fraction.Length > 0)
                sb.Append('.').Append(Fraction);
        }
        if (HasOffset)
        {
            if (OffsetMinutes == 0)
                sb.Append('Z');
            else
            {
                int abs = Math.Abs(OffsetMinutes);
                sb.Append(OffsetMinutes < 0 ? '-' : '+').Append(inv, $"{abs / 60:D2}:{abs % 60:D2}");
            }
        }
        return sb.ToString();
    }

    // "1.5" and "1.50" are the same instant, so trailing zeros of the fraction do not count.
    public bool Equals(TomlDateTime? other) =>
        other is not null && Kind == other.Kind && Year == other.Year && Month == other.Month &&
        Day == other.Day && Hour == other.Hour && Minute == other.Minute && Second == other.Second &&
        OffsetMinutes == other.OffsetMinutes &&
        Fraction.AsSpan().TrimEnd('0').SequenceEqual(other.Fraction.AsSpan().TrimEnd('0'));

    public override bool Equals(object? obj) => Equals(obj as TomlDateTime);

    public override int GetHashCode() => HashCode.Combine(
        HashCode.Combine(Kind, Year, Month, Day), HashCode.Combine(Hour, Minute, Second, OffsetMinutes),
        string.GetHashCode(Fraction.AsSpan().TrimEnd('0')));

    /// <summary>Null when the fields form a valid value of their kind, else what is wrong.</summary>
    internal static string? Check(TomlDateTime v)
    {
        if (v.HasDate)
        {
            if (v.Year is < 0 or > 9999) return "year must be 0000..9999";
            if (v.Month is < 1 or > 12) return "month must be 01..12";
            if (v.Day < 1 || v.Day > DaysInMonth(v.Year, v.Month))
                return $"day must be 01..{DaysInMonth(v.Year, v.Month):D2} for {v.Year:D4}-{v.Month:D2}";
        }
        if (v.HasTime)
        {
            if (v.Hour is < 0 or > 23) return "hour must be 00..23";
            if (v.Minute is < 0 or > 59) return "minute must be 00..59";
            if (v.Second is < 0 or > 60) return "second must be 00..60";
            foreach (char c in v.Fraction)
                if (c is < '0' or > '9') return "fraction must be digits";
        }
        if (v.OffsetMinutes is <= -24 * 60 or >= 24 * 60) return "offset must be within ±23:59";
        return null;
    }

    // Own leap-year rule: DateTime cannot represent year 0, which RFC 3339 allows.
    internal static int DaysInMonth(int year, int month) => month switch
    {
        2 => year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28,
        4 or 6 or 9 or 11 => 30,
        _ => 31,
    };

    static string TickFraction(long ticks) =>
        (ticks % TimeSpan.TicksPerSecond).ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0');

    long FractionTicks()
    {
        // Only the first 7 digits fit in 100 ns ticks; right-pad shorter fractions.
        var digits = Fraction.Length > 7 ? Fraction[..7] : Fraction.PadRight(7, '0');
        return long.Parse(digits, CultureInfo.InvariantCulture);
    }

    void Require(bool ok, string what)
    {
        if (!ok) throw new InvalidOperationException($"TOML {Kind} value {this} is not {what}");
    }
}
