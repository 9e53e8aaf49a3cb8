using Vigil.Config.Xml;
using Vigil.Core;

namespace Vigil.Config.Tests;

/// <summary>Pacemaker's own scheduler regression inputs (shared/conformance/dev) must import, and export must be a fixed point.</summary>
public class CorpusTests
{
    private static IEnumerable<string> CorpusFiles() =>
        Directory.EnumerateFiles(Path.Combine(TestFiles.Shared, "conformance", "dev"), "*.xml").OrderBy(f => f, StringComparer.Ordinal);

    [Fact]
    public void Every_corpus_cib_imports_without_errors()
    {
        var files = CorpusFiles().ToList();
        Assert.True(files.Count >= 373, $"expected the 373 corpus inputs, found {files.Count}");
        var failures = new List<string>();
        foreach (var f in files)
        {
            var parsed = CibXmlReader.Read(File.ReadAllText(f), Path.GetFileName(f));
            if (parsed.HasErrors || parsed.Value is null)
                failures.Add(string.Join("\n", parsed.Diagnostics.Where(d => d.Severity == Severity.Error)));
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {files.Count} failed:\n{string.Join("\n", failures.Take(20))}");
    }

    [Fact]
    public void Export_then_import_is_a_fixed_point_for_every_corpus_cib()
    {
        var failures = new List<string>();
        int n = 0;
        foreach (var f in CorpusFiles())
        {
            n++;
            var first = CibXmlReader.Read(File.ReadAllText(f), Path.GetFileName(f)).Value;
            if (first is null) { failures.Add($"{Path.GetFileName(f)}: import failed"); continue; }
            var exported = CibXmlWriter.Write(first);
            var second = CibXmlReader.Read(exported, "exported");
            if (second.HasErrors) { failures.Add($"{Path.GetFileName(f)}: re-import failed: {second.Diagnostics.First(d => d.Severity == Severity.Error)}"); continue; }
            var again = CibXmlWriter.Write(second.Value!);
            if (again != exported) failures.Add($"{Path.GetFileName(f)}: export differs after re-import");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {n}:\n{string.Join("\n", failures.Take(20))}");
    }

    [Fact]
    public void Export_keeps_every_element_and_attribute_of_the_corpus()
    {
        // Meaning is kept when nothing is dropped: compare the multiset of (element, attribute=value) facts.
        var failures = new List<string>();
        foreach (var f in CorpusFiles())
        {
            var text = File.ReadAllText(f);
            var cib = CibXmlReader.Read(text, f).Value;
            if (cib is null) { failures.Add($"{Path.GetFileName(f)}: import failed"); continue; }
            var exported = CibXmlWriter.Write(cib);
            var a = Facts(text);
            var b = Facts(exported);
            var missing = a.Except(b).ToList();
            if (missing.Count > 0) failures.Add($"{Path.GetFileName(f)}: lost {string.Join(", ", missing.Take(5))}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    private static HashSet<string> Facts(string xml)
    {
        var doc = System.Xml.Linq.XDocument.Parse(xml);
        var facts = new HashSet<string>();
        foreach (var e in doc.Descendants())
        {
            // An empty section (<rsc_defaults/>) says nothing; skipping it loses no meaning.
            if (!e.HasAttributes && !e.HasElements) continue;
            var path = string.Join("/", e.AncestorsAndSelf().Reverse().Select(x => x.Name.LocalName));
            var id = (string?)e.Attribute("id") ?? "";
            facts.Add($"{path}#{id}");
            foreach (var a in e.Attributes())
            {
                // +INFINITY and INFINITY are the same score.
                var value = a.Name.LocalName == "score" && Score.TryParse(a.Value, out var s) ? s.ToString() : a.Value;
                facts.Add($"{path}#{id}@{a.Name.LocalName}={value}");
            }
        }
        return facts;
    }
}
