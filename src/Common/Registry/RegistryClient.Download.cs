using Kslurm.Files;
using Kslurm.Processes;

namespace Kslurm.Registry;

public sealed partial class RegistryClient
{
    /// <summary>
    /// Downloads config and layers into blobDir/HEX, each verified against its sha256 digest and
    /// renamed into place only then (so a file named by a digest is always complete and right).
    /// A transfer cut short stays in HEX.partial and is resumed with a Range request; it is
    /// discarded when the server ignores Range or the result does not verify. Blobs already there
    /// are skipped; a per-blob lock lets two pulls share the folder.
    /// </summary>
    public void Download(ResolvedImage image, string blobDir, int parallel = 4, Action<string>? progress = null)
    {
        Directory.CreateDirectory(blobDir);
        var blobs = image.Blobs;
        var next = -1; // the blob the next free worker takes
        var gate = new object();
        void Say(string line)
        {
            if (progress is null) return;
            lock (gate) progress(line);
        }

        Exception? failure = null;
        void Work()
        {
            int i;
            while (Volatile.Read(ref failure) is null && (i = Interlocked.Increment(ref next)) < blobs.Count)
            {
                try
                {
                    var what = i == 0 ? "config" : $"layer {i}/{blobs.Count - 1}";
                    DownloadBlob(image.Ref, blobs[i], blobDir, what, Say);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            }
        }

        var threads = new List<Thread>();
        for (var t = 0; t < Math.Clamp(parallel, 1, Math.Max(1, blobs.Count)); t++)
            threads.Add(new Thread(Work) { IsBackground = true, Name = "kslurm-blob" });
        foreach (var t in threads) t.Start();
        // While they work, say now and then how far along the whole image is.
        var total = image.TotalSize;
        long told = -1;
        while (!JoinAll(threads, _options.ProgressInterval))
        {
            var have = BytesOnDisk(blobs, blobDir);
            if (have != told && have < total)
                Say($"{Size(have)} of {Size(total)} ({have * 100 / Math.Max(1, total)}%)");
            told = have;
        }
        if (failure is KslurmException or StoppedBySignalException)
            throw failure;
        if (failure is not null)
            throw new KslurmException($"{image.Ref.Canonical}: download failed: {failure.Message}", inner: failure);
    }

    static bool JoinAll(List<Thread> threads, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var t in threads)
        {
            var left = deadline - DateTime.UtcNow;
            if (!t.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
                return false;
        }
        return true;
    }

    /// <summary>Bytes of the image in blobDir so far: finished blobs and partial downloads.</summary>
    static long BytesOnDisk(IReadOnlyList<Blob> blobs, string blobDir)
    {
        long sum = 0;
        foreach (var b in blobs)
        {
            var final = Path.Combine(blobDir, b.Hex);
            var info = new FileInfo(File.Exists(final) ? final : final + ".partial");
            try { sum += info.Exists ? Math.Min(info.Length, b.Size) : 0; } catch (IOException) { }
        }
        return sum;
    }

    void DownloadBlob(ImageRef image, Blob blob, string blobDir, string what, Action<string> say)
    {
        var final = Path.Combine(blobDir, blob.Hex);
        if (HasBlob(final, blob))
        {
            say($"{what} {Short(blob.Digest)} already here ({Size(blob.Size)})");
            return;
        }
        var lockPath = final + ".lock";
        using (FileLock.Acquire(lockPath, TimeSpan.FromHours(6), say))
        {
            if (!HasBlob(final, blob))
                Fetch(image, blob, final, what, say);
            // Once the blob is in place nobody needs the lock (they check for the blob first), so
            // the file goes. After a failure it stays: a waiter may already hold it, and a new
            // file would let a third pull write the same partial at the same time.
            AtomicFile.TryDelete(lockPath);
        }
    }

    /// <summary>A file named by its digest is only ever renamed into place after verification.</summary>
    static bool HasBlob(string path, Blob blob)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
            return false;
        if (info.Length == blob.Size)
            return true;
        AtomicFile.TryDelete(path); // not ours: a wrong size cannot be this digest
        return false;
    }

    void Fetch(ImageRef image, Blob blob, string final, string what, Action<string> say)
    {
        var partial = final + ".partial";
        var url = $"{BaseUrl(image.Registry)}/v2/{image.Repository}/blobs/{blob.Digest}";
        KslurmException? last = null;
        for (var attempt = 1; attempt <= Math.Max(1, _options.Attempts); attempt++)
        {
            if (attempt > 1)
                Thread.Sleep(_options.RetryDelay * (1 << Math.Min(attempt - 2, 6)));
            var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            if (have > blob.Size)
            {
                AtomicFile.TryDelete(partial);
                have = 0;
            }
            if (have < blob.Size || blob.Size == 0 && !File.Exists(partial))
            {
                if (have > 0)
                    say($"{what} {Short(blob.Digest)}: resuming at {Size(have)} of {Size(blob.Size)}");
                var r = Send(image, new CurlRequest(url, partial)
                {
                    Resume = have > 0,
                    FailOnHttpError = true,
                    MaxBytes = blob.Size,
                    ConnectTimeout = _options.ConnectTimeout,
                }, []);
                if (r.Exit == 33 || r.Status == 416)
                {
                    // The server cannot continue where we stopped: start again from nothing.
                    say($"{what} {Short(blob.Digest)}: {image.Registry} cannot resume; downloading it again");
                    AtomicFile.TryDelete(partial);
                    last = Fail(image, $"{image.Registry} could not resume the download of {what} {blob.Digest}", "try again later");
                    continue;
                }
                if (r.Status == 404)
                    throw Fail(image, $"{image.Registry} does not have {what} {blob.Digest} of this image (HTTP 404)",
                        "the image is broken on the registry (or was deleted meanwhile); report it to its maintainers");
                if (r.Exit == 22 || r.Exit == 0 && r.Status is not (200 or 206))
                {
                    var error = HttpError(image, r, [], what);
                    if (r.Status is 404 or 401 or 403)
                        throw error; // no point asking again
                    last = error;
                    continue;
                }
                if (r.Exit != 0)
                {
                    last = NetworkError(image, r.Exit);
                    say($"{what} {Short(blob.Digest)}: {Curl.Explain(r.Exit, image.Registry).What}; trying again");
                    continue;
                }
                have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
                if (blob.Size == 0 && !File.Exists(partial))
                    File.WriteAllBytes(partial, []); // curl writes no file for an empty body
                if (have < blob.Size)
                {
                    last = Fail(image, $"the download of {what} {blob.Digest} stopped at {Size(have)} of {Size(blob.Size)}", "try again later");
                    continue;
                }
            }
            var actual = "sha256:" + Sha256.HashFileHex(partial);
            var size = new FileInfo(partial).Length;
            if (actual != blob.Digest || size != blob.Size)
            {
                AtomicFile.TryDelete(partial);
                last = Fail(image, $"{what} from {image.Registry} does not match its digest (expected {blob.Digest}, got {actual}, {Size(size)})",
                    "something between us and the registry altered it; try again later, or report it to the registry's operators");
                say($"{what} {Short(blob.Digest)}: wrong content, discarded");
                continue;
            }
            File.Move(partial, final, overwrite: true);
            say($"{what} {Short(blob.Digest)} downloaded ({Size(blob.Size)})");
            return;
        }
        throw last ?? Fail(image, $"could not download {what} {blob.Digest}", "try again later");
    }

    static string Short(string digest) => digest.Length > 19 ? digest[..19] : digest;
}
