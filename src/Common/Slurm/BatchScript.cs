using System.Text;
using Kslurm.Cli;
using Kslurm.Shell;

namespace Kslurm.Slurm;

/// <summary>Job scripts: the one kbatch writes for a command, and reading the #SBATCH header of a user's script.</summary>
public static class BatchScript
{
    /// <summary>A bash script that runs the argv exactly (each word single-quoted).</summary>
    public static string ForCommand(string tool, IReadOnlyList<string> command, IEnumerable<string>? setup = null)
    {
        var sb = new StringBuilder("#!/bin/bash\n");
        sb.Append($"# written by {tool} {BuildInfo.Version} (kslurm)\n");
        foreach (var line in setup ?? [])
            sb.Append(line).Append('\n');
        sb.Append(ShellQuote.Join(command)).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// The #SBATCH lines of a script's header. Like sbatch, reading stops at the first line that is
    /// neither a comment nor blank.
    /// </summary>
    public static List<string> Directives(string path)
    {
        var lines = new List<string>();
        foreach (var raw in File.ReadLines(path).Skip(1))
        {
            var line = raw.Trim();
            if (line.Length == 0)
                continue;
            if (!line.StartsWith('#'))
                break;
            if (line.StartsWith("#SBATCH", StringComparison.Ordinal))
                lines.Add(line);
        }
        return lines;
    }

    /// <summary>How to run a script file: directly when executable, else through its #! interpreter.</summary>
    public static List<string> Invocation(string path, IEnumerable<string> args)
    {
        var full = Path.GetFullPath(path);
        const UnixFileMode exec = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        if ((File.GetUnixFileMode(full) & exec) != 0)
            return [full, .. args];
        var shebang = File.ReadLines(full).First()[2..].Trim();
        var parts = shebang.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
        return [.. parts, full, .. args];
    }

    /// <summary>A file to submit as it is: a regular file starting with "#!" (sbatch needs one).</summary>
    public static bool IsScript(string path)
    {
        try
        {
            if (!File.Exists(path))
                return false;
            using var f = File.OpenRead(path);
            return f.ReadByte() == '#' && f.ReadByte() == '!';
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>Which resources a script's #SBATCH lines set, so kbatch adds its defaults only for the others.</summary>
    public static HashSet<SlurmOptions.Slot> PresetSlots(string path)
    {
        var slots = new HashSet<SlurmOptions.Slot>();
        foreach (var line in Directives(path))
        {
            foreach (var w in line[7..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Where(w => w.StartsWith('-')))
            {
                var slot = SlurmOptions.SlotOf(w);
                if (w is "-t" || w.StartsWith("-t", StringComparison.Ordinal) && w.Length > 2 && char.IsDigit(w[2]))
                    slot = SlurmOptions.Slot.Time; // in a script, -t is Slurm's time
                if (slot != SlurmOptions.Slot.None)
                    slots.Add(slot);
            }
        }
        return slots;
    }
}
