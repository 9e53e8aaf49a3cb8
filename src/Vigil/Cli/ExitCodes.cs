namespace Vigil.Cli;

/// <summary>Exit codes shared by every vigil command (documented in the README).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The input is usable but has warnings (config check).</summary>
    public const int Warnings = 1;
    /// <summary>The input has errors; nothing was changed.</summary>
    public const int Errors = 2;
    /// <summary>The command line itself is wrong (EX_USAGE).</summary>
    public const int Usage = 64;
    /// <summary>The cluster refused the request (no quorum, invalid for the running state).</summary>
    public const int Refused = 3;
    /// <summary>No node answered (EX_UNAVAILABLE).</summary>
    public const int Unavailable = 69;
    /// <summary>An input file could not be read (EX_NOINPUT).</summary>
    public const int NoInput = 66;
    /// <summary>A bug in Vigil (EX_SOFTWARE).</summary>
    public const int InternalError = 70;
}
