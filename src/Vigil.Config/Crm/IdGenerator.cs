namespace Vigil.Config.Crm;

/// <summary>
/// crmsh's id scheme: a derived id (<c>rsc-instance_attributes</c>, <c>loc-rule-expression</c>) is used as is
/// when free, otherwise the first free of <c>id-0</c>, <c>id-1</c>, … — so generated XML matches crmsh's.
/// </summary>
public sealed class IdGenerator
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public bool IsUsed(string id) => _used.Contains(id);

    /// <summary>Marks an id given by the user; false when it was already taken.</summary>
    public bool Claim(string id) => _used.Add(id);

    public string Next(string baseId)
    {
        var clean = Sanitize(baseId);
        if (_used.Add(clean)) return clean;
        for (int i = 0; ; i++)
        {
            var candidate = $"{clean}-{i}";
            if (_used.Add(candidate)) return candidate;
        }
    }

    /// <summary>XML ids may not contain spaces or start with a digit in every schema; crmsh replaces odd characters.</summary>
    private static string Sanitize(string id)
    {
        var chars = id.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
            if (!(char.IsLetterOrDigit(chars[i]) || chars[i] is '-' or '_' or '.' or ':')) chars[i] = '_';
        return new string(chars);
    }
}
