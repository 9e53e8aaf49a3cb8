using System.Diagnostics;

namespace Vigil.SystemTests.Testbed;

/// <summary>Runs a short command (ip, nft, tc, …) with a bound on its time; the shell side of the testbed.</summary>
public static class Sh
{
    public sealed record Result(int Code, string Out, string Err);

    public static Result Run(string file, IEnumerable<string> args, string? stdin = null, int timeoutMs = 20_000)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{file} {string.Join(' ', args)}' did not finish within {timeoutMs} ms");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs the command and throws, with its stderr, when it fails.</summary>
    public static string Must(string file, params string[] args) => MustIn(null, file, args);

    public static string MustIn(string? stdin, string file, params string[] args)
    {
        var r = Run(file, args, stdin);
        if (r.Code != 0)
            throw new InvalidOperationException($"'{file} {string.Join(' ', args)}' failed with exit code {r.Code}: {r.Err.Trim()}{r.Out.Trim()}");
        return r.Out;
    }

    /// <summary>Runs the command and ignores a failure (teardown paths, where the object may be gone already).</summary>
    public static void Try(string file, params string[] args)
    {
        try { Run(file, args); }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
    }
}
