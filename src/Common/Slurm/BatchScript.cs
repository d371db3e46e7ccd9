using System.Text;

namespace Kslurm;

/// <summary>Job scripts: the one kbatch writes for a command, and reading the #SBATCH header of a user's script.</summary>
public static class BatchScript
{
    /// <summary>A bash script that runs the argv exactly (each word single-quoted).</summary>
    public static string ForCommand(IReadOnlyList<string> command, IEnumerable<string>? setup = null)
    {
        var sb = new StringBuilder("#!/bin/bash\n");
        sb.Append($"# written by kbatch {BuildInfo.Version} (kslurm)\n");
        foreach (var line in setup ?? [])
            sb.Append(line).Append('\n');
        sb.Append(ShellQuote.Join(command)).Append('\n');
        return sb.ToString();
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

    /// <summary>
    /// Which resources a script's #SBATCH lines set, so kbatch adds its defaults only for the
    /// others. Like sbatch, stops at the first line that is neither a comment nor blank.
    /// </summary>
    public static HashSet<SlurmOptions.Slot> PresetSlots(string path)
    {
        var slots = new HashSet<SlurmOptions.Slot>();
        foreach (var raw in File.ReadLines(path).Skip(1))
        {
            var line = raw.Trim();
            if (line.Length == 0)
                continue;
            if (!line.StartsWith('#'))
                break;
            if (!line.StartsWith("#SBATCH", StringComparison.Ordinal))
                continue;
            var words = line[7..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            foreach (var w in words.Where(w => w.StartsWith('-')))
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
