namespace PaperVec.Api.Hosting;

/// <summary>The request limits of a running server (from <see cref="ServerOptions"/>), for the routes.</summary>
public sealed record ServerLimits(long MaxBodyBytes, int MaxQueryChars, int MaxPapersPerRequest);
