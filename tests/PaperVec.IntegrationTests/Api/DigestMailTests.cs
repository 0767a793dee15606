using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using PaperVec.Api;
using PaperVec.Api.Hosting;
using PaperVec.Api.Libraries;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace PaperVec.Tests.Api;

/// <summary>
/// Issue 29 item 4: e-mail digests through a real SMTP server on loopback (the SmtpServer package, in
/// this process): down when the digest is ingested (the ingest does not wait), the message arrives
/// once it comes up, exactly once, and a restarted server does not send it again.
/// </summary>
[Collection("embedder")]
public class DigestMailTests
{
    const string Email = "reader@example.org";

    [Fact]
    public async Task ANewDigestIsMailedOnceToASubscribedLibraryAfterTheSmtpServerComesBackAndNotAgainAfterARestart()
    {
        string data = Directory.CreateTempSubdirectory("pv-mail-").FullName;
        int port = ServeProcess.FreePort();
        var smtp = new SmtpOptions("127.0.0.1", port) { Poll = TimeSpan.FromMilliseconds(100), RetryFirst = TimeSpan.FromMilliseconds(100), RetryMax = TimeSpan.FromMilliseconds(400) };
        var inbox = new ConcurrentQueue<MimeMessage>();
        using var smtpStop = new CancellationTokenSource();
        try
        {
            await using (var app = await StartAsync(data, smtp))
            {
                var client = app.GetTestClient();
                await PostDigestAsync(client, File.ReadAllText(Path.Combine(RepoPaths.Digests, "daily-papers-mar-11.txt")), "daily-papers-mar-11");
                var found = await client.GetFromJsonAsync<JsonElement>("/search?k=1&mode=lexical&q=" + Uri.EscapeDataString("Grad-CAM visual explanations"));
                string gradCam = found.GetProperty("results")[0].GetProperty("id").GetString()!;
                Assert.Equal(HttpStatusCode.OK, (await client.PutAsync("/libraries/reader", Json($"{{\"liked\": [\"{gradCam}\"]}}"))).StatusCode);

                // Strict JSON: an unknown field and a bad address are refused by name.
                await Problems.AssertProblemAsync(await client.PutAsync("/libraries/reader/subscription", Json($"{{\"email\": \"{Email}\", \"top\": 3, \"every\": \"day\"}}")), 400, "every");
                await Problems.AssertProblemAsync(await client.PutAsync("/libraries/reader/subscription", Json("{\"email\": \"not an address\"}")), 400, "not an e-mail address");
                await Problems.AssertProblemAsync(await client.PutAsync("/libraries/nobody/subscription", Json($"{{\"email\": \"{Email}\"}}")), 404, "no library named 'nobody'");
                var subscribed = await client.PutAsync("/libraries/reader/subscription", Json($"{{\"email\": \"{Email}\", \"top\": 3}}"));
                Assert.Equal(HttpStatusCode.OK, subscribed.StatusCode);

                // The SMTP server is down: the ingest answers at once all the same, and nothing is noted as sent.
                await PostDigestAsync(client, File.ReadAllText(Path.Combine(RepoPaths.Digests, "daily-papers-mar-12.txt")), "daily-papers-mar-12");
                await Task.Delay(TimeSpan.FromSeconds(1)); // several failed tries
                Assert.Empty(await MailedAsync(client));

                // It comes up: the message arrives, once.
                var server = StartSmtp(port, inbox, smtpStop.Token);
                await WaitForAsync(() => inbox.Count >= 1, "the message after the SMTP server came up");
                await WaitForAsync(async () => (await MailedAsync(client)).Count == 1, "the sent mark");
                var message = Assert.Single(inbox);
                Assert.Equal(Email, message.To.Mailboxes.Single().Address);
                Assert.Contains("2025-03-12/daily-papers-mar-12", message.Subject);
                Assert.Contains("Because you liked \"Grad-CAM:", message.TextBody);
                Assert.Contains("<li>", message.HtmlBody);
                Assert.Equal(3, message.TextBody.Split('\n').Count(l => l.StartsWith("- ")));
                Assert.Equal(["2025-03-12/daily-papers-mar-12"], await MailedAsync(client)); // mar-11 came before the subscription
            }

            // Restarted over the same directory: the sent mark was durable; a new digest's message proves the sender ran, and mar-12's is not sent again.
            await using (var again = await StartAsync(data, smtp))
            {
                var client = again.GetTestClient();
                Assert.Equal(["2025-03-12/daily-papers-mar-12"], await MailedAsync(client));
                await PostDigestAsync(client, ThirdDigest, "mar-13");
                await WaitForAsync(() => inbox.Count >= 2, "the new digest's message after the restart");
                await WaitForAsync(async () => (await MailedAsync(client)).Count == 2, "the second sent mark");
                Assert.Equal(2, inbox.Count);
                Assert.Single(inbox, m => m.Subject.Contains("daily-papers-mar-12"));
                Assert.Single(inbox, m => m.Subject.Contains("mar-13"));
            }
        }
        finally
        {
            smtpStop.Cancel();
            Directory.Delete(data, true);
        }
    }

    const string ThirdDigest = """
        Mar 13

        Class activation maps for explaining convolutional networks, revisited

        We revisit gradient-weighted class activation mapping (Grad-CAM) for visual explanations of convolutional neural network decisions, and show how localization maps computed from the gradients of a target concept highlight the image regions that matter for a prediction, across image classification, captioning and visual question answering models.

        """;

    static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    static async Task PostDigestAsync(HttpClient client, string text, string name)
    {
        var response = await client.PostAsync($"/digests?year=2025&name={name}", new StringContent(text, Encoding.UTF8, "text/plain"));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    static async Task<List<string>> MailedAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/libraries/reader/subscription")).GetProperty("mailed").EnumerateArray().Select(m => m.GetString()!).ToList();

    static async Task WaitForAsync(Func<bool> condition, string what) => await WaitForAsync(() => Task.FromResult(condition()), what);

    static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        for (int i = 0; i < 600; i++)
        {
            if (await condition()) return;
            await Task.Delay(100);
        }
        Assert.Fail($"waited a minute for {what}");
    }

    static async Task<WebApplication> StartAsync(string data, SmtpOptions smtp)
    {
        var app = await PaperVecServer.CreateAsync(new ServerOptions { DataPath = data, ModelDirectory = RepoPaths.ModelDir, Smtp = smtp }, builder => builder.WebHost.UseTestServer());
        await app.StartAsync();
        await app.Services.GetRequiredService<ServedPapers>().WhenModelLoaded;
        return app;
    }

    static SmtpServer.SmtpServer StartSmtp(int port, ConcurrentQueue<MimeMessage> inbox, CancellationToken stop)
    {
        var options = new SmtpServerOptionsBuilder().ServerName("localhost")
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, port))).Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Inbox(inbox));
        var server = new SmtpServer.SmtpServer(options, services);
        _ = server.StartAsync(stop);
        return server;
    }

    sealed class Inbox(ConcurrentQueue<MimeMessage> messages) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            messages.Enqueue(await MimeMessage.LoadAsync(stream, cancellationToken));
            return SmtpResponse.Ok;
        }
    }
}
