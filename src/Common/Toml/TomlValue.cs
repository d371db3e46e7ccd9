namespace Kslurm;

/// <summary>
/// The closed set of value types a TOML tree may hold. Tables and arrays pass every value they are
/// given through <see cref="Normalize"/> so the writer never meets a type it cannot render.
/// </summary>
internal static class TomlValue
{
    public static object Normalize(object? value) => value switch
    {
        null => throw new ArgumentNullException(nameof(value), "TOML has no null value"),
        string or long or double or bool or TomlDateTime or TomlArray or TomlTable => value,
        // Convenience conversions, so callers can write table["n"] = 5 or assign a DateTime.
        int i => (long)i,
        short s => (long)s,
        byte b => (long)b,
        uint u => (long)u,
        float f => (double)f,
        DateTimeOffset d => TomlDateTime.FromDateTimeOffset(d),
        DateTime d => TomlDateTime.FromDateTime(d),
        DateOnly d => TomlDateTime.FromDate(d),
        TimeOnly t => TomlDateTime.FromTime(t),
        _ => throw new ArgumentException($"type {value.GetType().Name} cannot be stored in a TOML tree", nameof(value)),
    };

    /// <summary>Type name for messages, in TOML's own terms.</summary>
    public static string Describe(object value) => value switch
    {
        string => "string",
        long => "integer",
        double => "float",
        bool => "boolean",
        TomlDateTime d => d.Kind switch
        {
            TomlDateTimeKind.OffsetDateTime => "offset date-time",
            TomlDateTimeKind.LocalDateTime => "local date-time",
            TomlDateTimeKind.LocalDate => "local date",
            _ => "local time",
        },
        TomlArray => "array",
        TomlTable => "table",
        _ => value.GetType().Name,
    };
}
