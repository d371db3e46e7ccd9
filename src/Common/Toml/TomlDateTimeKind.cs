namespace Kslurm;

/// <summary>The four date/time forms of TOML; they are distinct types, not one type with defaults.</summary>
public enum TomlDateTimeKind
{
    /// <summary>Date, time and UTC offset, e.g. <c>1979-05-27T07:32:00-07:00</c>.</summary>
    OffsetDateTime,

    /// <summary>Date and time without offset, e.g. <c>1979-05-27T07:32:00</c>.</summary>
    LocalDateTime,

    /// <summary>Date only, e.g. <c>1979-05-27</c>.</summary>
    LocalDate,

    /// <summary>Time of day only, e.g. <c>07:32:00.5</c>.</summary>
    LocalTime,
}
