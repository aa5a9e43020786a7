using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Diabetes.AppHost.Tests;

/// <summary>A span as a service exported it: ids in hex, the span's name and kind, and the exporting service.</summary>
public sealed record CollectedSpan(string Service, string TraceId, string SpanId, string ParentSpanId, string Name, SpanKind Kind);

/// <summary>The OTLP span kinds (opentelemetry/proto/trace/v1/trace.proto).</summary>
public enum SpanKind
{
    Unspecified = 0,
    Internal = 1,
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

/// <summary>
/// An OpenTelemetry collector for the test: receives OTLP/HTTP protobuf exports on <c>/v1/traces</c> (the services'
/// exporter with <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>) and keeps the spans. The protobuf wire format is
/// read by hand: a few fields of ExportTraceServiceRequest are all a test needs.
/// </summary>
public sealed class OtlpTraceCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<CollectedSpan> _spans = new();

    private OtlpTraceCollector(WebApplication app) => _app = app;

    public Uri Endpoint { get; private set; } = null!;

    public IReadOnlyCollection<CollectedSpan> Spans => _spans.ToArray();

    public static async Task<OtlpTraceCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var collector = new OtlpTraceCollector(app);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            foreach (var span in ReadExport(body.ToArray()))
            {
                collector._spans.Enqueue(span);
            }

            // An empty ExportTraceServiceResponse.
            return Results.Bytes([], "application/x-protobuf");
        });
        // Metrics and logs are accepted and dropped.
        app.MapPost("/v1/{signal}", () => Results.Bytes([], "application/x-protobuf"));
        await app.StartAsync();
        collector.Endpoint = new Uri(app.Urls.Single());
        return collector;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
    private static IEnumerable<CollectedSpan> ReadExport(byte[] message)
    {
        foreach (var (field, value) in Fields(message))
        {
            if (field == 1)
            {
                foreach (var span in ReadResourceSpans(value))
                {
                    yield return span;
                }
            }
        }
    }

    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }, ScopeSpans { repeated Span spans = 2; }
    private static IEnumerable<CollectedSpan> ReadResourceSpans(ReadOnlyMemory<byte> message)
    {
        var service = "";
        var spans = new List<ReadOnlyMemory<byte>>();
        foreach (var (field, value) in Fields(message))
        {
            if (field == 1)
            {
                service = ServiceName(value) ?? service;
            }
            else if (field == 2)
            {
                spans.AddRange(Fields(value).Where(f => f.Field == 2).Select(f => f.Value));
            }
        }

        return spans.Select(span => ReadSpan(service, span));
    }

    // Resource { repeated KeyValue attributes = 1; }, KeyValue { string key = 1; AnyValue value = 2; }, AnyValue { string string_value = 1; }
    private static string? ServiceName(ReadOnlyMemory<byte> resource)
    {
        foreach (var (_, attribute) in Fields(resource).Where(f => f.Field == 1))
        {
            var parts = Fields(attribute).ToDictionary(f => f.Field, f => f.Value);
            if (parts.TryGetValue(1, out var key) && Text(key) == "service.name" && parts.TryGetValue(2, out var value))
            {
                return Fields(value).Where(f => f.Field == 1).Select(f => Text(f.Value)).FirstOrDefault();
            }
        }

        return null;
    }

    // Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; SpanKind kind = 6; }
    private static CollectedSpan ReadSpan(string service, ReadOnlyMemory<byte> message)
    {
        string traceId = "", spanId = "", parentSpanId = "", name = "";
        var kind = SpanKind.Unspecified;
        foreach (var (field, value) in Fields(message))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(value.Span); break;
                case 2: spanId = Convert.ToHexStringLower(value.Span); break;
                case 4: parentSpanId = Convert.ToHexStringLower(value.Span); break;
                case 5: name = Text(value); break;
                case 6: kind = (SpanKind)ReadVarint(value.Span, out _); break;
            }
        }

        return new CollectedSpan(service, traceId, spanId, parentSpanId, name, kind);
    }

    private static string Text(ReadOnlyMemory<byte> value) => System.Text.Encoding.UTF8.GetString(value.Span);

    /// <summary>
    /// The fields of a protobuf message in order: a length-delimited field's bytes, a varint's bytes as written (read
    /// them with <see cref="ReadVarint"/>), fixed-width fields skipped.
    /// </summary>
    private static IEnumerable<(int Field, ReadOnlyMemory<byte> Value)> Fields(ReadOnlyMemory<byte> message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var key = ReadVarint(message.Span[position..], out var keyLength);
            position += keyLength;
            var field = (int)(key >> 3);
            switch ((int)(key & 7))
            {
                case 0:
                    ReadVarint(message.Span[position..], out var varintLength);
                    yield return (field, message.Slice(position, varintLength));
                    position += varintLength;
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message.Span[position..], out var lengthLength);
                    position += lengthLength;
                    yield return (field, message.Slice(position, length));
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type in field {field}.");
            }
        }
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, out int length)
    {
        ulong value = 0;
        for (length = 0; length < bytes.Length; length++)
        {
            value |= (ulong)(bytes[length] & 0x7F) << (7 * length);
            if ((bytes[length] & 0x80) == 0)
            {
                length++;
                return value;
            }
        }

        throw new InvalidDataException("A protobuf varint runs past the end of its message.");
    }
}
