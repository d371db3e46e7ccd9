namespace Kslurm.Venv;

/// <summary>Names of saved and loaded venvs: letters, digits, `_`, `-` and `.` (dots are kept whole).</summary>
public static class VenvName
{
    public static string Check(string name)
    {
        if (name.Length is 0 or > 100 || name[0] is '.' or '-' || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            throw new UsageException($"invalid venv name '{name}'",
                "use letters, digits, '_', '-' and '.', not starting with '.' or '-' (at most 100 characters)");
        return name;
    }
}
