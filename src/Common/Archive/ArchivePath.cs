namespace Kslurm.Archive;

/// <summary>Entry-name rules shared by the archive writer, extractor and reader.</summary>
internal static class ArchivePath
{
    /// <summary>Permission bits a tar entry may carry (rwx for all, setuid, setgid, sticky).</summary>
    public const UnixFileMode ModeBits = (UnixFileMode)0xFFF;

    /// <summary>rwx for user, group and others.</summary>
    public const UnixFileMode PermissionBits = (UnixFileMode)0x1FF;

    /// <summary>
    /// The canonical relative form of a stored name: "./" prefixes, "." components, repeated and
    /// trailing slashes dropped (GNU tar writes "./lib/", we write "lib/"). Returns "" for the
    /// root itself ("./"), and null for names that are absolute or contain "..": those could
    /// land outside the target folder.
    /// </summary>
    public static string? Normalise(string name)
    {
        if (name.Length == 0 || name[0] == '/')
            return null;
        // Span-based: this runs for every entry of an archive (a string[] per name showed in
        // load profiles). Most names are already clean and are returned as they are.
        ReadOnlySpan<char> text = name;
        bool clean = true;
        foreach (Range part in text.Split('/'))
        {
            ReadOnlySpan<char> c = text[part];
            if (c is "..")
                return null;
            if (c.Length == 0 || c is ".")
                clean = false;
        }
        if (clean)
            return name;
        // The components that are not empty or ".", joined by single slashes.
        Span<char> kept = name.Length <= 512 ? stackalloc char[name.Length] : new char[name.Length];
        int length = 0;
        foreach (Range part in text.Split('/'))
        {
            ReadOnlySpan<char> c = text[part];
            if (c.Length == 0 || c is ".")
                continue;
            if (length > 0)
                kept[length++] = '/';
            c.CopyTo(kept[length..]);
            length += c.Length;
        }
        return new string(kept[..length]);
    }

    /// <summary>
    /// Whether a stored name is the archived folder itself: "./" (`tar -C dir .`), "/" (Python's
    /// tarfile adding a folder with arcname="", as the Python kslurm's `kpy save` did), ".", "".
    /// Any other absolute name is still absolute.
    /// </summary>
    public static bool IsRoot(string name)
    {
        // Span-based, no string[] per entry: it runs for every entry.
        ReadOnlySpan<char> text = name;
        foreach (Range part in text.Split('/'))
        {
            ReadOnlySpan<char> c = text[part];
            if (c.Length > 0 && c is not ".")
                return false;
        }
        return true;
    }

    /// <summary>Orders names by Unicode code point, which is UTF-8 byte order (what `tar --sort=name`
    /// and `ls` in the C locale use). Plain ordinal comparison of UTF-16 differs for characters
    /// above U+FFFF, whose surrogates sort below U+E000..U+FFFF.</summary>
    public static int CompareCodePoints(string? a, string? b)
    {
        if (a == null || b == null)
            return a == null ? (b == null ? 0 : -1) : 1;
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = a[i], y = b[i];
            if (x == y)
                continue;
            bool sx = char.IsSurrogate(x), sy = char.IsSurrogate(y);
            if (sx != sy)
                return sx ? 1 : -1;
            return x - y;
        }
        return a.Length - b.Length;
    }

    /// <summary>The folder part of a relative path ("" at the top).</summary>
    public static string Parent(string rel)
    {
        int slash = rel.LastIndexOf('/');
        return slash < 0 ? "" : rel[..slash];
    }
}
