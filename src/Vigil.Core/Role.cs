namespace Vigil.Core;

/// <summary>Resource roles. Pacemaker 2.1 renamed Master/Slave to Promoted/Unpromoted; both spellings parse.</summary>
public enum Role
{
    Unknown = 0,
    Stopped,
    Started,
    Unpromoted,
    Promoted,
}

public static class Roles
{
    public static bool TryParse(string? text, out Role role)
    {
        role = Role.Unknown;
        switch (text?.Trim().ToLowerInvariant())
        {
            case "stopped": role = Role.Stopped; return true;
            case "started": role = Role.Started; return true;
            case "slave" or "unpromoted": role = Role.Unpromoted; return true;
            case "master" or "promoted": role = Role.Promoted; return true;
            case "unknown": role = Role.Unknown; return true;
            default: return false;
        }
    }

    public static string Name(Role role) => role switch
    {
        Role.Stopped => "Stopped",
        Role.Started => "Started",
        Role.Unpromoted => "Unpromoted",
        Role.Promoted => "Promoted",
        _ => "Unknown",
    };

    /// <summary>True when the spelling is the pre-2.1 one (Master, Slave).</summary>
    public static bool IsLegacySpelling(string text) =>
        text.Equals("master", StringComparison.OrdinalIgnoreCase) || text.Equals("slave", StringComparison.OrdinalIgnoreCase);
}
