using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Vigil.Config;
using Vigil.Core;

namespace Vigil.Config.Tests;

/// <summary>
/// Parsers never crash: thousands of mutated real configurations (seeded, reproducible) and generated
/// strings go through every language; each result is either a value or at least one error diagnostic.
/// Mutants that stay valid must survive a crm round trip unchanged.
/// </summary>
public class FuzzTests
{
    private const int Seed = 20261123;

    private static readonly string[] Words =
    [
        "primitive", "group", "clone", "ms", "location", "colocation", "order", "property", "rsc_defaults", "op_defaults",
        "node", "rule", "params", "meta", "op", "op_params", "utilization", "attributes", "fencing_topology", "inf:", "-inf:",
        "100:", "Mandatory:", "Optional:", "(", ")", "[", "]", "{", "}", "and", "or", "defined", "not_defined", "date", "spec",
        "#uname", "eq", "version:gt", "role=Promoted", "$id=x", "\"", "'", "\\", "=", ":", "::", "interval=0", "timeout=",
        "ocf:heartbeat:Dummy", "stonith:fence_dummy", "@t", "/^a$/", "\n", "\\\n", "#", "node1:", "ms_drbd:Master", "a:promote",
        "<", ">", "/>", "</cib>", "<primitive id=\"x\">", "<rule id=\"r\" score=\"x\">", "&amp;", "&bogus;", "<![CDATA[", "id=\"\"",
    ];

    private static IEnumerable<(string Name, string Text, ConfigFormat Format)> Corpus()
    {
        foreach (var f in Directory.EnumerateFiles(Path.Combine(TestFiles.RepoRoot, "examples")))
            yield return (Path.GetFileName(f), File.ReadAllText(f), ConfigFormats.Detect(f, File.ReadAllText(f)));
        var crmsh = Path.Combine(TestFiles.Shared, "research", "crmsh");
        foreach (var name in new[] { "grammar-examples.crm", "grammar-show.crm", "seed-show.crm", "seed-config-verbatim.crm" })
            yield return (name, File.ReadAllText(Path.Combine(crmsh, name)), ConfigFormat.Crm);
        foreach (var name in new[] { "grammar-cib.xml", "seed-cib.xml" })
            yield return (name, File.ReadAllText(Path.Combine(crmsh, name)), ConfigFormat.Xml);
        var dev = Path.Combine(TestFiles.Shared, "conformance", "dev");
        foreach (var f in Directory.EnumerateFiles(dev, "*.xml").OrderBy(x => x, StringComparer.Ordinal).Take(40))
            yield return (Path.GetFileName(f), File.ReadAllText(f), ConfigFormat.Xml);
    }

    internal static string Mutate(string text, Random rnd)
    {
        int n = 1 + rnd.Next(4);
        for (int i = 0; i < n; i++)
        {
            int pos = text.Length == 0 ? 0 : rnd.Next(text.Length);
            switch (rnd.Next(8))
            {
                case 0: // delete a range
                    int len = Math.Min(text.Length - pos, 1 + rnd.Next(20));
                    text = text.Remove(pos, len);
                    break;
                case 1: // insert a keyword or punctuation
                    text = text.Insert(pos, (rnd.Next(2) == 0 ? " " : "") + Words[rnd.Next(Words.Length)] + (rnd.Next(2) == 0 ? " " : ""));
                    break;
                case 2: // duplicate a line
                    var lines = text.Split('\n').ToList();
                    var li = rnd.Next(lines.Count);
                    lines.Insert(li, lines[li]);
                    text = string.Join('\n', lines);
                    break;
                case 3: // swap two words
                    var words = text.Split(' ');
                    if (words.Length > 2) { int a = rnd.Next(words.Length), b = rnd.Next(words.Length); (words[a], words[b]) = (words[b], words[a]); }
                    text = string.Join(' ', words);
                    break;
                case 4: // truncate
                    text = text[..pos];
                    break;
                case 5: // random character
                    text = text.Insert(pos, ((char)rnd.Next(1, 0x2FF)).ToString());
                    break;
                case 6: // replace a digit or letter
                    if (text.Length > 0) text = text.Remove(pos, 1).Insert(pos, "0aZ:=\"-_ ".Substring(rnd.Next(9), 1));
                    break;
                default: // drop a line
                    var ls = text.Split('\n').ToList();
                    if (ls.Count > 1) ls.RemoveAt(rnd.Next(ls.Count));
                    text = string.Join('\n', ls);
                    break;
            }
        }
        return text;
    }

    private static void AssertWellBehaved(Parsed<Vigil.Core.Model.Cib> result, string input)
    {
        if (result.Value is null)
            Assert.True(result.Diagnostics.Any(d => d.Severity == Severity.Error), $"no value and no error for:\n{input}");
        foreach (var d in result.Diagnostics)
        {
            Assert.False(string.IsNullOrWhiteSpace(d.Code));
            Assert.False(string.IsNullOrWhiteSpace(d.Message));
        }
    }

    [Fact]
    public void Mutated_configurations_never_crash_any_parser()
    {
        var rnd = new Random(Seed);
        var corpus = Corpus().ToList();
        int runs = 0, valid = 0;
        foreach (var (name, text, format) in corpus)
        {
            int perFile = format == ConfigFormat.Xml ? 60 : 400;
            for (int i = 0; i < perFile; i++)
            {
                var mutant = Mutate(text, rnd);
                Parsed<Vigil.Core.Model.Cib> result;
                try
                {
                    result = ConfigLoader.Load(mutant, name, format);
                    // Every language must also cope with text meant for another.
                    AssertWellBehaved(ConfigLoader.Parse(mutant, name, format == ConfigFormat.Crm ? ConfigFormat.Haresources : ConfigFormat.Crm), mutant);
                }
                catch (Exception e)
                {
                    Assert.Fail($"{name} mutant {i} (seed {Seed}) crashed: {e}\n---\n{mutant}");
                    return;
                }
                AssertWellBehaved(result, mutant);
                runs++;
                if (result.Value is not null) valid++;
            }
        }
        Assert.True(runs >= 5000, $"only {runs} mutants ran");
        Assert.True(valid > 0 && valid < runs, $"mutation should yield both valid and invalid inputs ({valid}/{runs})");
    }

    [Fact]
    public void Valid_crm_mutants_survive_a_round_trip_unchanged()
    {
        var rnd = new Random(Seed + 1);
        var bases = Corpus().Where(c => c.Format == ConfigFormat.Crm).ToList();
        int checkedCount = 0;
        for (int i = 0; i < 3000; i++)
        {
            var (name, text, _) = bases[i % bases.Count];
            var mutant = Mutate(text, rnd);
            var parsed = ConfigLoader.Parse(mutant, name, ConfigFormat.Crm);
            if (parsed.Value is null) continue;
            var (first, _) = ConfigLoader.Write(parsed.Value, ConfigFormat.Crm);
            var again = ConfigLoader.Parse(first, "first", ConfigFormat.Crm);
            Assert.True(again.Value is not null, $"writer output does not re-parse:\n{string.Join("\n", again.Diagnostics)}\n--- written:\n{first}\n--- from mutant:\n{mutant}");
            var (second, _) = ConfigLoader.Write(again.Value!, ConfigFormat.Crm);
            Assert.Equal(first, second);
            checkedCount++;
        }
        Assert.True(checkedCount >= 300, $"only {checkedCount} valid mutants");
    }

    [Property(MaxTest = 2000)]
    public bool Arbitrary_strings_never_crash_the_crm_parser(string input)
    {
        var r = ConfigLoader.Load(input ?? "", "gen", ConfigFormat.Crm);
        return r.Value is not null || r.HasErrors;
    }

    [Property(MaxTest = 1000)]
    public bool Arbitrary_strings_never_crash_the_xml_reader(string input)
    {
        var r = ConfigLoader.Load("<cib>" + (input ?? "") + "</cib>", "gen", ConfigFormat.Xml);
        return r.Value is not null || r.HasErrors;
    }

    [Property(MaxTest = 1000)]
    public bool Arbitrary_strings_never_crash_the_haresources_importer(string input)
    {
        var r = ConfigLoader.Load(input ?? "", "gen", ConfigFormat.Haresources);
        return r.Value is not null || r.HasErrors;
    }

    [Property(MaxTest = 500)]
    public Property Word_soup_from_the_crm_vocabulary_never_crashes() =>
        Prop.ForAll(Gen.ArrayOf(Gen.Elements(Words)).ToArbitrary(), words =>
        {
            var text = string.Join(' ', words);
            var r = ConfigLoader.Load(text, "soup", ConfigFormat.Crm);
            return r.Value is not null || r.HasErrors;
        });
}
