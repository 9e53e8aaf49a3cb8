using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Vigil.Host.Agents;

/// <summary>One process to run: program, argv, a complete environment, optional stdin text and a hard timeout.</summary>
public sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment, TimeSpan Timeout)
{
    public string? Stdin { get; init; }
    /// <summary>Run inside this network namespace (<c>ip netns exec NAME</c>); used by tests and per-namespace nodes.</summary>
    public string? NetworkNamespace { get; init; }
    public int MaxStdoutBytes { get; init; } = 1 << 20;
    public int MaxStderrBytes { get; init; } = 64 << 10;
}

/// <summary>How a process ended.</summary>
public sealed record ProcessOutcome
{
    /// <summary>Null when the process could not be started or was killed by us.</summary>
    public int? ExitCode { get; init; }
    public bool TimedOut { get; init; }
    public bool Cancelled { get; init; }
    public string? StartError { get; init; }
    public string Stdout { get; init; } = "";
    public string Stderr { get; init; } = "";
    public bool Truncated { get; init; }
    public TimeSpan Duration { get; init; }
    /// <summary>The process id, which is also its process group id.</summary>
    public int Pid { get; init; }
}

/// <summary>
/// Runs a program the way Pacemaker's executor does: in its own process group and session
/// (<c>setsid</c> execs in place when its caller is not a group leader, so pid = pgid), with stdout and
/// stderr going to private files rather than pipes. Completion is decided by process exit alone: an
/// agent that leaves a background child holding its output (IPaddr2's send_arp) or a daemon that never
/// closes its fds cannot delay it. On timeout or cancellation the whole group gets SIGKILL; after a
/// successful exit the group is left alone (killing it would kill send_arp).
/// </summary>
public sealed partial class ProcessRunner
{
    private const int Sigkill = 9;
    private readonly string _spoolDir;

    public ProcessRunner(string? spoolDir = null)
    {
        // Agent output can hold secrets: the spool is private (0700), under /run for root, else a fresh temp directory.
        if (spoolDir is null)
            _spoolDir = Environment.UserName == "root" && Directory.Exists("/run") ? "/run/vigil/exec" : Directory.CreateTempSubdirectory("vigil-exec-").FullName;
        else
            _spoolDir = spoolDir;
        Directory.CreateDirectory(_spoolDir);
        File.SetUnixFileMode(_spoolDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static string WrapperShell => File.Exists("/bin/bash") ? "/bin/bash" : "/bin/sh";

    public static string SetsidPath => File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : "/bin/setsid";

    public async Task<ProcessOutcome> RunAsync(ProcessSpec spec, CancellationToken cancellationToken = default)
    {
        var id = Guid.NewGuid().ToString("N");
        var outFile = Path.Combine(_spoolDir, id + ".out");
        var errFile = Path.Combine(_spoolDir, id + ".err");
        var inFile = spec.Stdin is null ? "/dev/null" : Path.Combine(_spoolDir, id + ".in");
        try
        {
            // Output files are created by us with mode 0600: fence agent output may echo device details.
            foreach (var f in new[] { outFile, errFile })
                using (File.Create(f, 1, FileOptions.None)) File.SetUnixFileMode(f, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            if (spec.Stdin is not null)
            {
                await File.WriteAllTextAsync(inFile, "", cancellationToken).ConfigureAwait(false);
                File.SetUnixFileMode(inFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                await File.WriteAllTextAsync(inFile, spec.Stdin, new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
            }
            var psi = new ProcessStartInfo(SetsidPath) { UseShellExecute = false, WorkingDirectory = "/" };
            psi.Environment.Clear();
            foreach (var (k, v) in spec.Environment) psi.Environment[k] = v;
            // setsid → bash (exec) → agent (exec): one pid throughout. The shell only sets up redirections;
            // bash, unlike dash, passes on environment names that are not shell identifiers (OCF_RESKEY_cidr-netmask).
            psi.ArgumentList.Add(WrapperShell);
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("o=$1 e=$2 i=$3; shift 3; exec \"$@\" >\"$o\" 2>\"$e\" <\"$i\"");
            psi.ArgumentList.Add("vigil-exec");
            psi.ArgumentList.Add(outFile);
            psi.ArgumentList.Add(errFile);
            psi.ArgumentList.Add(inFile);
            if (spec.NetworkNamespace is not null)
            {
                psi.ArgumentList.Add("/usr/sbin/ip");
                psi.ArgumentList.Add("netns");
                psi.ArgumentList.Add("exec");
                psi.ArgumentList.Add(spec.NetworkNamespace);
            }
            psi.ArgumentList.Add(spec.FileName);
            foreach (var a in spec.Arguments) psi.ArgumentList.Add(a);

            var sw = Stopwatch.StartNew();
            Process process;
            try
            {
                process = Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null");
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                return new ProcessOutcome { StartError = $"cannot start {spec.FileName}: {e.Message}", Duration = sw.Elapsed };
            }
            using (process)
            {
                int pid = process.Id;
                _running.TryAdd(pid, 0);
                try
                {
                    return await WaitAsync(process, pid, spec, sw, outFile, errFile, cancellationToken).ConfigureAwait(false);
                }
                finally { _running.TryRemove(pid, out _); }
            }
        }
        finally
        {
            // Unlinking is safe while a background child still writes: its writes go to the orphaned inode.
            TryDelete(outFile);
            TryDelete(errFile);
            if (spec.Stdin is not null) TryDelete(inFile);
        }
    }

    /// <summary>Waits for the agent's exit (killing its group on timeout or cancellation) and collects its output.</summary>
    private static async Task<ProcessOutcome> WaitAsync(Process process, int pid, ProcessSpec spec, Stopwatch sw, string outFile, string errFile, CancellationToken cancellationToken)
    {
        bool timedOut = false, cancelled = false;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimerSafe(spec.Timeout));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            cancelled = cancellationToken.IsCancellationRequested;
            timedOut = !cancelled;
            KillGroup(pid);
            // SIGKILL cannot be ignored; reaping takes milliseconds. Bounded anyway.
            using var reap = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await process.WaitForExitAsync(reap.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        var duration = sw.Elapsed;
        var (stdout, t1) = ReadHead(outFile, spec.MaxStdoutBytes);
        var (stderr, t2) = ReadTail(errFile, spec.MaxStderrBytes);
        return new ProcessOutcome
        {
            ExitCode = timedOut || cancelled || !process.HasExited ? null : process.ExitCode,
            TimedOut = timedOut,
            Cancelled = cancelled,
            Stdout = stdout,
            Stderr = stderr,
            Truncated = t1 || t2,
            Duration = duration,
            Pid = pid,
        };
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte> _running = new();

    /// <summary>SIGKILL to the process group of every agent running now (self-fencing: nothing may keep acting).</summary>
    public void KillAll()
    {
        foreach (var pid in _running.Keys) KillGroup(pid);
    }

    /// <summary>Timers take at most int.MaxValue ms (~24.8 days); anything longer means "no timeout".</summary>
    public static TimeSpan TimerSafe(TimeSpan timeout) =>
        timeout > TimeSpan.FromMilliseconds(int.MaxValue) ? System.Threading.Timeout.InfiniteTimeSpan
        : timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout;

    /// <summary>SIGKILL to the whole process group (pgid = pid), falling back to the process alone.</summary>
    public static void KillGroup(int pid)
    {
        if (pid <= 1) return;
        if (Kill(-pid, Sigkill) != 0) Kill(pid, Sigkill);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private static (string Text, bool Truncated) ReadHead(string path, int max)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var len = (int)Math.Min(fs.Length, max);
            var buf = new byte[len];
            fs.ReadExactly(buf);
            return (Encoding.UTF8.GetString(buf), fs.Length > max);
        }
        catch (IOException) { return ("", false); }
    }

    private static (string Text, bool Truncated) ReadTail(string path, int max)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            long len = fs.Length;
            long start = Math.Max(0, len - max);
            fs.Seek(start, SeekOrigin.Begin);
            var buf = new byte[len - start];
            fs.ReadExactly(buf);
            var text = Encoding.UTF8.GetString(buf);
            if (start > 0)
            {
                // Drop the partial first line.
                var nl = text.IndexOf('\n', StringComparison.Ordinal);
                if (nl >= 0) text = text[(nl + 1)..];
            }
            return (text, start > 0);
        }
        catch (IOException) { return ("", false); }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
