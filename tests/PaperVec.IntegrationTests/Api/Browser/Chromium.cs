using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PaperVec.Tests.Api.Browser;

/// <summary>
/// Debian's headless chromium driven over the DevTools protocol: started with a debugging port of 0,
/// its browser endpoint read from stderr ("DevTools listening on ws://..."), then one page target
/// is opened and spoken to over a WebSocket.
/// </summary>
sealed class Chromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    readonly Process _process;
    readonly string _profile;
    readonly ClientWebSocket _browser = new();
    readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _waiting = new();
    readonly CancellationTokenSource _stop = new();
    readonly List<Task> _readers = [];
    int _nextId;
    string? _sessionId;

    Chromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    public static async Task<Chromium> LaunchAsync()
    {
        string profile = Directory.CreateTempSubdirectory("pv-chromium-").FullName;
        var start = new ProcessStartInfo(ExecutablePath,
            ["--headless", "--remote-debugging-port=0", $"--user-data-dir={profile}", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-dev-shm-usage", "--window-size=1280,900", "about:blank"])
        { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        var process = Process.Start(start)!;
        var chromium = new Chromium(process, profile);
        var endpoint = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data == null) { endpoint.TrySetException(new InvalidOperationException($"chromium exited: {stderr}")); return; }
            lock (stderr) stderr.AppendLine(e.Data);
            const string marker = "DevTools listening on ";
            if (e.Data.Contains(marker)) endpoint.TrySetResult(e.Data[(e.Data.IndexOf(marker) + marker.Length)..].Trim());
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            string browserUrl = await endpoint.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await chromium._browser.ConnectAsync(new Uri(browserUrl), CancellationToken.None);
            chromium._readers.Add(chromium.ReadAsync(chromium._browser));
            // A page target of our own, attached in "flat" mode: its commands go over the browser socket with a session id.
            var target = await chromium.SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" }, session: false);
            var attached = await chromium.SendAsync("Target.attachToTarget",
                new JsonObject { ["targetId"] = target.GetProperty("targetId").GetString(), ["flatten"] = true }, session: false);
            chromium._sessionId = attached.GetProperty("sessionId").GetString();
            await chromium.SendAsync("Page.enable");
            await chromium.SendAsync("Runtime.enable");
            return chromium;
        }
        catch
        {
            await chromium.DisposeAsync();
            throw;
        }
    }

    public async Task<JsonElement> SendAsync(string method, JsonObject? parameters = null, bool session = true)
    {
        int id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        if (session) message["sessionId"] = _sessionId;
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[id] = answer;
        await _browser.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        var reply = await answer.Task.WaitAsync(TimeSpan.FromSeconds(30));
        if (reply.TryGetProperty("error", out var error)) throw new InvalidOperationException($"{method}: {error}");
        return reply.GetProperty("result");
    }

    async Task ReadAsync(ClientWebSocket socket)
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var received = await socket.ReceiveAsync(buffer, _stop.Token);
                if (received.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, received.Count);
                if (!received.EndOfMessage) continue;
                using var json = JsonDocument.Parse(message.ToArray());
                message.SetLength(0);
                if (json.RootElement.TryGetProperty("id", out var id) && _waiting.TryRemove(id.GetInt32(), out var waiting))
                    waiting.TrySetResult(json.RootElement.Clone());
                // Events (no id) are not needed: the test polls the page's state instead.
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
        foreach (var waiting in _waiting.Values) waiting.TrySetException(new InvalidOperationException("the DevTools connection closed"));
    }

    /// <summary>Evaluates JavaScript in the page and returns its (JSON) value.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true });
        if (result.TryGetProperty("exceptionDetails", out var failure)) throw new InvalidOperationException($"{expression}: {failure}");
        return result.GetProperty("result").TryGetProperty("value", out var value) ? value : default;
    }

    /// <summary>Polls a JavaScript condition until it is true (a throw counts as not yet); fails with <paramref name="what"/> and the page's text after 30 s.</summary>
    public async Task WaitForAsync(string condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            // A condition that throws (the page still loading: no element yet) is not true yet.
            if (await EvaluateAsync($"(() => {{ try {{ return Boolean({condition}); }} catch {{ return false; }} }})()") is { ValueKind: JsonValueKind.True }) return;
            await Task.Delay(50);
        }
        Assert.Fail($"timed out waiting for {what}; the page shows: {await EvaluateAsync("document.body.innerText")}");
    }

    public async Task NavigateAsync(string url) => await SendAsync("Page.navigate", new JsonObject { ["url"] = url });

    /// <summary>Types text into the focused element and presses Enter, as a user would.</summary>
    public async Task TypeAndPressEnterAsync(string text)
    {
        await SendAsync("Input.insertText", new JsonObject { ["text"] = text });
        foreach (var type in new[] { "keyDown", "keyUp" })
        {
            var key = new JsonObject { ["type"] = type, ["key"] = "Enter", ["code"] = "Enter", ["windowsVirtualKeyCode"] = 13, ["nativeVirtualKeyCode"] = 13 };
            if (type == "keyDown") key["text"] = "\r";
            await SendAsync("Input.dispatchKeyEvent", key);
        }
    }

    /// <summary>A real mouse click in the middle of the first element matching <paramref name="selector"/>.</summary>
    public async Task ClickAsync(string selector)
    {
        var box = await EvaluateAsync($"(() => {{ const e = document.querySelector({JsonSerializer.Serialize(selector)}); e.scrollIntoView(); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()");
        double x = box[0].GetDouble(), y = box[1].GetDouble();
        foreach (var type in new[] { "mousePressed", "mouseReleased" })
            await SendAsync("Input.dispatchMouseEvent", new JsonObject { ["type"] = type, ["x"] = x, ["y"] = y, ["button"] = "left", ["clickCount"] = 1 });
    }

    /// <summary>Lays the page out as a screen of this size (a phone when <paramref name="mobile"/>: the viewport meta tag applies).</summary>
    public async Task SetViewportAsync(int width, int height, bool mobile) =>
        await SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = mobile });

    /// <summary>Presses and releases one key, as typed on a keyboard (a printable key also sends its text).</summary>
    public async Task PressKeyAsync(string key)
    {
        string code = key switch { "/" => "Slash", "Escape" => "Escape", _ when key.Length == 1 && char.IsLetter(key[0]) => "Key" + char.ToUpperInvariant(key[0]), _ => key };
        foreach (var type in new[] { "keyDown", "keyUp" })
        {
            var press = new JsonObject { ["type"] = type, ["key"] = key, ["code"] = code };
            if (key.Length == 1) press["windowsVirtualKeyCode"] = key == "/" ? 191 : char.ToUpperInvariant(key[0]);
            else if (key == "Escape") press["windowsVirtualKeyCode"] = 27;
            if (type == "keyDown" && key.Length == 1) press["text"] = key;
            await SendAsync("Input.dispatchKeyEvent", press);
        }
    }

    /// <summary>The URLs of every page the browser has open (windows the page opened included).</summary>
    public async Task<List<string>> PageUrlsAsync()
    {
        var targets = await SendAsync("Target.getTargets", session: false);
        return targets.GetProperty("targetInfos").EnumerateArray()
            .Where(t => t.GetProperty("type").GetString() == "page").Select(t => t.GetProperty("url").GetString()!).ToList();
    }

    public async Task<byte[]> ScreenshotPngAsync() =>
        Convert.FromBase64String((await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" })).GetProperty("data").GetString()!);

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await Task.WhenAll(_readers).WaitAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { }
        _browser.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        try { Directory.Delete(_profile, true); } catch (IOException) { } // chromium may still be writing its profile as it dies
    }
}
