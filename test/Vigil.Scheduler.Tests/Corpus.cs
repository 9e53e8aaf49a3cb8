using Vigil.Config.Xml;
using Vigil.Core.Model;

namespace Vigil.Scheduler.Tests;

/// <summary>
/// Pacemaker's regression inputs with Pacemaker 2.1.5's decisions (<c>shared/conformance/dev</c>, next to
/// the repository: CI clones the repository beside <c>shared/</c>).
/// </summary>
internal static class Corpus
{
    /// <summary>The fixed "now" for corpus runs: failure timeouts in the corpus expired long before it.</summary>
    public static readonly DateTimeOffset Now = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vigil.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Vigil.slnx)");
        }
    }

    public static string Dir
    {
        get
        {
            var env = System.Environment.GetEnvironmentVariable("VIGIL_CONFORMANCE_DIR");
            if (!string.IsNullOrEmpty(env)) return env;
            foreach (var candidate in new[] { Path.Combine(RepoRoot, "..", "shared", "conformance", "dev"), "/work/shared/conformance/dev" })
                if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
            throw new InvalidOperationException("the conformance corpus (../shared/conformance/dev) is missing");
        }
    }

    public static IEnumerable<string> Names() =>
        Directory.GetFiles(Dir, "*.xml").Select(f => Path.GetFileNameWithoutExtension(f)!).OrderBy(n => n, StringComparer.Ordinal);

    public static Cib Load(string name)
    {
        var parsed = CibXmlReader.Read(File.ReadAllText(Path.Combine(Dir, name + ".xml")), name + ".xml");
        return parsed.Value ?? throw new InvalidOperationException($"{name}: {string.Join("; ", parsed.Diagnostics)}");
    }

    public static string[] Expected(string name) =>
        File.ReadAllLines(Path.Combine(Dir, name + ".rec")).Where(l => l.Length > 0 && l[0] != '#').ToArray();
}
