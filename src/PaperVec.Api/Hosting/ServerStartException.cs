namespace PaperVec.Api.Hosting;

/// <summary>The server refuses to start as configured; the message says why and what to change.</summary>
public sealed class ServerStartException(string message) : InvalidOperationException(message);
