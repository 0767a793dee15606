using System.Net;
using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using PaperVec.Api.Hosting;
using PaperVec.Engine;
using PaperVec.Storage;

namespace PaperVec.Api.Libraries;

/// <summary>
/// Where e-mail digests go out (configuration PaperVec:Smtp:Host, :Port, :From, :Tls): an SMTP server.
/// <see cref="Poll"/>: how often new digests are looked for; <see cref="RetryFirst"/>..<see cref="RetryMax"/>: the backoff while the SMTP server is down.
/// </summary>
public sealed record SmtpOptions(string Host, int Port = 25, string From = "papervec@localhost", bool Tls = false)
{
    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan RetryFirst { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan RetryMax { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// The server's background sender of e-mail digests: for each library with a subscription, each digest
/// ingested since it subscribed and not yet mailed gets one message (its top papers, HTML and plain
/// text) through the configured SMTP server; once the server accepted it, the library's record notes
/// the digest (durably, through the write-ahead log), so a restart does not send it again. An SMTP
/// server that is down is retried with doubling waits; ingests never wait for any of this.
/// The one window: killed after the SMTP server accepted a message but before the note is durable,
/// it is sent again on restart, with the same Message-Id (receivers that deduplicate drop it).
/// </summary>
public sealed class DigestMailer(ServedPapers served, SmtpOptions options, ILogger<DigestMailer> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        try { await served.WhenModelLoaded.WaitAsync(stop); } // rankings need the model's vectors in place
        catch (Exception) when (!stop.IsCancellationRequested) { return; } // not ready: /ready says why
        var wait = options.RetryFirst;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await SendDueAsync(stop);
                wait = options.RetryFirst;
                await Task.Delay(options.Poll, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or SmtpCommandException or SmtpProtocolException or ServiceNotConnectedException or AuthenticationException or SslHandshakeException)
            {
                log.LogWarning("e-mail digests: the SMTP server {Host}:{Port} failed ({Reason}); retrying in {Wait}", options.Host, options.Port, e.Message.Split('\n')[0], wait);
                try { await Task.Delay(wait, stop); } catch (OperationCanceledException) { return; }
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, options.RetryMax.Ticks));
            }
        }
    }

    /// <summary>Sends every due message, oldest digest first; each one noted as sent before the next.</summary>
    public async Task SendDueAsync(CancellationToken stop)
    {
        var collection = served.Collection;
        List<DigestRecord>? digests = null;
        foreach (var library in await collection.LibrariesAsync())
        {
            if (library.Subscription is not { } subscription) continue;
            digests ??= await collection.DigestsAsync();
            foreach (var digest in digests.Where(d => d.IngestedAt >= subscription.Since && !library.Mailed.Contains(d.Id)).OrderBy(d => d.IngestedAt))
            {
                stop.ThrowIfCancellationRequested();
                var entries = await LibraryFeed.EntriesAsync(collection, library, subscription.Top, 1, [digest.Id]);
                if (entries.Count > 0) await SendAsync(Message(library, subscription, digest, entries), stop);
                // Nothing to recommend (no liked papers yet) is noted too: the digest is done for this library.
                await collection.MarkMailedAsync(library.Name, digest.Id);
                if (entries.Count > 0) log.LogInformation("e-mail digest for library {Library}: {Digest}, {Count} papers, sent to {Email}", library.Name, digest.Id, entries.Count, subscription.Email);
            }
        }
    }

    async Task SendAsync(MimeMessage message, CancellationToken stop)
    {
        using var smtp = new SmtpClient { Timeout = 60_000 };
        await smtp.ConnectAsync(options.Host, options.Port, options.Tls ? SecureSocketOptions.StartTls : SecureSocketOptions.None, stop);
        await smtp.SendAsync(message, stop);
        await smtp.DisconnectAsync(true, stop);
    }

    MimeMessage Message(ReaderLibrary library, LibrarySubscription subscription, DigestRecord digest, List<LibraryFeed.FeedEntry> entries)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(options.From));
        message.To.Add(MailboxAddress.Parse(subscription.Email));
        message.Subject = $"PaperVec: {entries.Count} papers for {library.Name} from {digest.Id}";
        // The same id for the same digest and library: a message sent twice (a crash between sending and noting it) is one message to receivers that deduplicate.
        message.MessageId = $"{Hex(digest.Id)}.{library.Name}@papervec";
        var text = new StringBuilder($"Today's papers for library '{library.Name}' from digest {digest.Id}:\n\n");
        var html = new StringBuilder($"<html><body><h1>Papers for {WebUtility.HtmlEncode(library.Name)}</h1><p>From digest {WebUtility.HtmlEncode(digest.Id)}.</p><ol>");
        foreach (var e in entries)
        {
            string link = e.ArxivId is { } arxiv ? $"https://arxiv.org/abs/{arxiv}" : "";
            text.Append($"- {e.Result.Title}\n  {LibraryFeed.Summary(e)}\n{(link.Length > 0 ? $"  {link}\n" : "")}\n");
            string title = WebUtility.HtmlEncode(e.Result.Title);
            html.Append($"<li><p><b>{(link.Length > 0 ? $"<a href=\"{WebUtility.HtmlEncode(link)}\">{title}</a>" : title)}</b></p><p>{WebUtility.HtmlEncode(LibraryFeed.Summary(e))}</p></li>");
        }
        html.Append("</ol></body></html>");
        message.Body = new BodyBuilder { TextBody = text.ToString(), HtmlBody = html.ToString() }.ToMessageBody();
        return message;
    }

    static string Hex(string text) => Convert.ToHexString(Encoding.UTF8.GetBytes(text)).ToLowerInvariant();
}
