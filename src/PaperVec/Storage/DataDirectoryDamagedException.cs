namespace PaperVec.Storage;

/// <summary>A data directory that cannot be opened without losing acknowledged data: the message names what is wrong.</summary>
public class DataDirectoryDamagedException(string message, Exception? inner = null) : IOException(message, inner);
