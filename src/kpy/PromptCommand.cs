using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// `kpy _prompt` (for the shell snippet): the active venv's name, with a leading `*` when what is
/// installed differs from what was last saved. Prints nothing for venvs kpy does not manage.
/// </summary>
static class PromptCommand
{
    public static int Run(string[] argv)
    {
        var venv = Environment.GetEnvironmentVariable("VIRTUAL_ENV");
        if (string.IsNullOrEmpty(venv) || VenvMeta.ReadFrom(venv) is not { } meta || meta.Name.Length == 0)
            return 0;
        var changed = meta.SavedState is not null && meta.SavedState != VenvState.Fingerprint(venv); // never saved: nothing to differ from
        Console.Out.Write((changed ? "*" : "") + meta.Name + "\n");
        return 0;
    }
}
