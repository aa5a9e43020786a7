using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Diabetes.MlflowDouble;

/// <summary>
/// A test double of an MLflow tracking server with proxied artifacts, on a real loopback port, answering like the
/// transcript in <c>shared/mlflow/rest-transcript-2.17.2.md</c>: status codes, <c>error_code</c>s and messages,
/// field names and which fields are left out, pretty-printed successes and one-line errors, <c>application/json</c>
/// required on POST, HTML pages for unknown paths and methods.
/// <para>
/// It plays either major (<see cref="Mlflow2"/> or, by default, <see cref="Mlflow3"/>, what the platform's image
/// runs). As MLflow 3 it is stricter, as the real server is: a POST or PUT body that arrives chunked is read as empty
/// (uvicorn's WSGI bridge gives Flask no length; a JSON call then misses its first required parameter, an upload
/// stores an empty file); API calls whose Host header is not allowed are refused with 403 while <c>/health</c> and
/// <c>/version</c> still answer; errors carry <c>sqlstate</c> and <c>error_class</c>; <c>runs/get</c> has
/// <c>inputs</c> and <c>outputs</c> even when empty; <c>metrics/get-history</c> without <c>max_results</c> answers
/// only a page token; <c>artifacts/list</c> with an empty <c>path=</c> lists the root, where 2.17 lists nothing.
/// </para>
/// <para>
/// What it does not model: the GraphQL endpoint and <c>/get-artifact</c>; page tokens of searches (every search
/// answers one page; only 3.x's metric history answers its token); the search filter grammar beyond <c>AND</c>ed comparisons of <c>metrics.</c>, <c>params.</c>,
/// <c>tags.</c> and <c>attributes.status</c>/<c>run_name</c> for runs, <c>name</c>/<c>run_id</c> equality for
/// versions and <c>name</c> equality or <c>LIKE</c> for models (any other filter is refused with 400); deleting
/// or renaming experiments, runs and models. Setting a model-version tag and deleting an alias were not in the
/// transcript and follow MLflow's REST reference. State lives in memory for the life of the instance.
/// </para>
/// </summary>
public sealed partial class MlflowServerDouble : IAsyncDisposable
{
    /// <summary>The 2.x release of the transcript (gunicorn).</summary>
    public const string Mlflow2 = "2.17.2";

    /// <summary>The 3.x release whose differences the double plays (uvicorn).</summary>
    public const string Mlflow3 = "3.12.0";

    private const string ArtifactsDestination = "s3://mlflow";

    // Like Python's json module: quotes and apostrophes are not escaped.
    private static readonly JsonSerializerOptions Pretty = new()
    {
        WriteIndented = true, IndentSize = 2, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly WebApplication _app;
    private readonly object _gate = new();
    private readonly Dictionary<string, ExperimentState> _experiments = new();
    private readonly Dictionary<string, RunState> _runs = new();
    private readonly Dictionary<string, ModelState> _models = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (byte[] Content, string ContentType)> _artifacts = new(StringComparer.Ordinal);
    private int _nextExperimentId = 1;

    private MlflowServerDouble(WebApplication app, string version, IReadOnlyList<string>? allowedHosts)
    {
        if (allowedHosts is not null && !version.StartsWith("3.", StringComparison.Ordinal))
        {
            throw new ArgumentException($"MLflow {version} has no Host check; allowed hosts are a 3.x setting.", nameof(allowedHosts));
        }

        _app = app;
        Version = version;
        _allowedHosts = allowedHosts ?? DefaultAllowedHosts;
        _experiments["0"] = new ExperimentState("0", "Default", Now(), []);
    }

    /// <summary>The MLflow release the double answers as (<c>/version</c>).</summary>
    public string Version { get; }

    /// <summary>Whether it plays MLflow 3, with the stricter behaviour of that major.</summary>
    public bool IsMlflow3 => Version.StartsWith("3.", StringComparison.Ordinal);

    /// <summary>Where the double listens; known once it has started.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    private readonly List<ReceivedRequest> _requestLog = [];

    /// <summary>Fails every call with 503 while true, as a server that is down behind a proxy.</summary>
    public bool Unavailable { get; set; }

    /// <summary>
    /// How many artifact downloads still to fail with the 500 MLflow answers when its object store fails (the same
    /// answer as for a missing file; listings still answer).
    /// </summary>
    public int FailingDownloads { get; set; }

    /// <summary>
    /// Artifact uploads whose path ends with this fail with the 500 MLflow answers when its object store fails (none
    /// while null).
    /// </summary>
    public string? FailingUploadsOf { get; set; }

    /// <summary>
    /// Starts a double answering as MLflow <paramref name="version"/>; as MLflow 3 it accepts the Host headers
    /// <paramref name="allowedHosts"/> (<c>--allowed-hosts</c> patterns; default: the server's own default of
    /// localhost and private addresses).
    /// </summary>
    public static async Task<MlflowServerDouble> StartAsync(string version = Mlflow3, IReadOnlyList<string>? allowedHosts = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        // Port 0: the system picks a free port when the server binds, so parallel tests cannot collide.
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var double_ = new MlflowServerDouble(app, version, allowedHosts);
        double_.Map(app);
        await app.StartAsync();
        double_.BaseAddress = new Uri(app.Urls.Single());
        return double_;
    }

    /// <summary>
    /// The requests answered so far whose path (and query) contains <paramref name="pathPart"/> (all for ""), with how
    /// each body was framed, for tests that check what a client sent.
    /// </summary>
    public ReceivedRequest[] Requests(string pathPart = "")
    {
        lock (_requestLog)
        {
            return _requestLog.Where(r => r.PathAndQuery.Contains(pathPart, StringComparison.Ordinal)).ToArray();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (Unavailable)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                await context.Response.WriteAsync("Service Unavailable");
            }
            else if (IsMlflow3 && !IsHostAllowed(context.Request))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync(InvalidHostMessage);
            }
            else
            {
                if (IsMlflow3)
                {
                    AddSecurityHeaders(context.Response);
                }

                await next(context);
            }

            lock (_requestLog)
            {
                _requestLog.Add(new ReceivedRequest(context.Request.Method, $"{context.Request.Path}{context.Request.QueryString}",
                    context.Response.StatusCode, context.Request.ContentLength, IsChunked(context.Request), DateTimeOffset.UtcNow));
            }
        });

        app.MapGet("/health", () => Text("OK", "text/html; charset=utf-8"));
        app.MapGet("/version", () => Text(Version, "text/html; charset=utf-8"));

        const string api = "/api/2.0/mlflow";
        MapGet(app, $"{api}/experiments/search", SearchExperiments);
        MapPost(app, $"{api}/experiments/search", SearchExperiments);
        MapPost(app, $"{api}/experiments/create", CreateExperiment);
        MapGet(app, $"{api}/experiments/get-by-name", GetExperimentByName);
        MapGet(app, $"{api}/experiments/get", GetExperiment);
        MapPost(app, $"{api}/runs/create", CreateRun);
        MapPost(app, $"{api}/runs/update", UpdateRun);
        MapGet(app, $"{api}/runs/get", GetRun);
        MapPost(app, $"{api}/runs/search", SearchRuns);
        MapPost(app, $"{api}/runs/log-batch", LogBatch);
        MapPost(app, $"{api}/runs/log-inputs", LogInputs);
        MapGet(app, $"{api}/metrics/get-history", GetMetricHistory);
        MapGet(app, $"{api}/artifacts/list", ListRunArtifacts);
        MapPost(app, $"{api}/registered-models/create", CreateRegisteredModel);
        MapGet(app, $"{api}/registered-models/get", GetRegisteredModel);
        MapGet(app, $"{api}/registered-models/search", SearchRegisteredModels);
        MapGet(app, $"{api}/registered-models/get-latest-versions", GetLatestVersions);
        MapPost(app, $"{api}/registered-models/get-latest-versions", GetLatestVersions);
        MapPost(app, $"{api}/registered-models/alias", SetAlias);
        MapGet(app, $"{api}/registered-models/alias", GetByAlias);
        app.MapMethods($"{api}/registered-models/alias", ["DELETE"], Route(DeleteAlias));
        MapPost(app, $"{api}/model-versions/create", CreateModelVersion);
        MapGet(app, $"{api}/model-versions/get", GetModelVersion);
        MapGet(app, $"{api}/model-versions/search", SearchModelVersions);
        MapGet(app, $"{api}/model-versions/get-download-uri", GetDownloadUri);
        MapPost(app, $"{api}/model-versions/transition-stage", TransitionStage);
        MapPost(app, $"{api}/model-versions/set-tag", SetModelVersionTag);

        app.MapGet("/api/2.0/mlflow-artifacts/artifacts", Route(ListProxiedArtifacts));
        app.MapPut("/api/2.0/mlflow-artifacts/artifacts/{**path}", UploadArtifactAsync);
        app.MapGet("/api/2.0/mlflow-artifacts/artifacts/{**path}", (string path) => DownloadArtifact(path));

        // Flask answers an unknown path with 404 and a known path with the wrong method with 405, both as HTML.
        app.MapFallback((Func<HttpContext, IResult>)(context => HtmlError(
            app.Services.GetService(typeof(Microsoft.AspNetCore.Routing.EndpointDataSource)) is Microsoft.AspNetCore.Routing.EndpointDataSource source
                && source.Endpoints.OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>().Any(e =>
                    string.Equals("/" + e.RoutePattern.RawText?.TrimStart('/'), context.Request.Path.Value, StringComparison.Ordinal))
                ? StatusCodes.Status405MethodNotAllowed
                : StatusCodes.Status404NotFound)));
    }

    private void MapPost(WebApplication app, string path, Func<Request, IResult> handler) => app.MapPost(path, Route(handler));

    private void MapGet(WebApplication app, string path, Func<Request, IResult> handler) => app.MapGet(path, Route(handler));

    // A route handler (whose IResult is written), not a RequestDelegate (whose result would be dropped).
    private Delegate Route(Func<Request, IResult> handler) => (Func<HttpContext, Task<IResult>>)(context => Handle(context, handler));

    private async Task<IResult> Handle(HttpContext context, Func<Request, IResult> handler)
    {
        JsonObject body = [];
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            var mediaType = context.Request.ContentType?.Split(';')[0].Trim();
            if (!string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
            {
                return Error(400, "INVALID_PARAMETER_VALUE", "Bad Request. Content-Type must be one of ['application/json'].");
            }

            var text = Encoding.UTF8.GetString(await ReadBodyAsync(context.Request));
            try
            {
                body = JsonNode.Parse(text) as JsonObject ?? [];
            }
            catch (JsonException)
            {
                // The server reads a body it cannot parse as empty, and then misses its first required field.
                body = [];
            }
        }

        var request = new Request(context.Request.Query, body);
        try
        {
            lock (_gate)
            {
                return handler(request);
            }
        }
        catch (MlflowError error)
        {
            return Error(error.Status, error.Code, error.Message);
        }
    }

    /// <summary>The body as the server's Flask handlers see it: nothing at all when MLflow 3 receives it chunked.</summary>
    private async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return IsMlflow3 && IsChunked(request) ? [] : buffer.ToArray();
    }

    private static bool IsChunked(HttpRequest request) =>
        request.Headers.TransferEncoding.Any(value => value?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true);

    // ---- Experiments ----

    private IResult CreateExperiment(Request request)
    {
        var name = request.Required("name");
        if (_experiments.Values.Any(e => e.Name == name))
        {
            throw new MlflowError(400, "RESOURCE_ALREADY_EXISTS",
                $"Experiment(name={name}) already exists. Error: (psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint \"experiments_name_key\"");
        }

        var id = (_nextExperimentId++).ToString(CultureInfo.InvariantCulture);
        _experiments[id] = new ExperimentState(id, name, Now(), request.Tags("tags"));
        return Ok(new JsonObject { ["experiment_id"] = id });
    }

    private IResult GetExperimentByName(Request request)
    {
        var name = request.Required("experiment_name");
        var experiment = _experiments.Values.FirstOrDefault(e => e.Name == name)
            ?? throw new MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"Could not find experiment with name '{name}'");
        return Ok(new JsonObject { ["experiment"] = experiment.ToJson() });
    }

    private IResult GetExperiment(Request request)
    {
        var id = request.Required("experiment_id");
        var experiment = _experiments.GetValueOrDefault(id)
            ?? throw new MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"No Experiment with id={id} exists");
        return Ok(new JsonObject { ["experiment"] = experiment.ToJson() });
    }

    private IResult SearchExperiments(Request request)
    {
        var experiments = _experiments.Values.OrderByDescending(e => e.Created).ThenBy(e => int.Parse(e.Id, CultureInfo.InvariantCulture))
            .Take((int?)request.Long("max_results") ?? 1000).Select(e => (JsonNode)e.ToJson()).ToArray();
        return Ok(experiments.Length == 0 ? [] : new JsonObject { ["experiments"] = new JsonArray(experiments) });
    }

    // ---- Runs ----

    private IResult CreateRun(Request request)
    {
        var experimentId = request.Optional("experiment_id") ?? "0";
        if (!_experiments.ContainsKey(experimentId))
        {
            throw new MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"No Experiment with id={experimentId} exists");
        }

        var runId = Guid.NewGuid().ToString("N");
        var tags = request.Tags("tags");
        for (var i = 0; i < tags.Count; i++)
        {
            ValidateKey(tags[i].Key, $"tags[{i}].key", "Tag key");
        }

        var runName = request.Optional("run_name") ?? tags.FirstOrDefault(t => t.Key == "mlflow.runName")?.Value ?? $"run-{runId[..8]}";
        var run = new RunState(runId, experimentId, runName, request.Long("start_time") ?? Now());
        foreach (var tag in tags.Where(t => t.Key != "mlflow.runName"))
        {
            run.Tags[tag.Key] = Truncated(tag.Value, MaxTagValueLength);
        }

        run.Tags["mlflow.runName"] = runName;
        _runs[runId] = run;
        return Ok(new JsonObject { ["run"] = run.ToJson() });
    }

    private IResult UpdateRun(Request request)
    {
        var run = FindRun(request.Required("run_id"));
        if (RequestedStatus(request.Body) is { } status)
        {
            run.Status = status;
        }

        run.EndTime = request.Long("end_time") ?? run.EndTime;
        if (request.Optional("run_name") is { } name)
        {
            run.Name = name;
            run.Tags["mlflow.runName"] = name;
        }

        return Ok(new JsonObject { ["run_info"] = run.InfoJson() });
    }

    private IResult GetRun(Request request)
    {
        var run = FindRun(request.Required("run_id")).ToJson();
        if (IsMlflow3)
        {
            // The 3.x store always attaches inputs and outputs (logged models), so even empty ones are written.
            run["inputs"] ??= new JsonObject();
            run["outputs"] = new JsonObject();
        }

        return Ok(new JsonObject { ["run"] = run });
    }

    private IResult LogBatch(Request request)
    {
        // Every check before anything is written, and before the run is looked up, as the server's store does.
        ValidateBatch(request);
        var run = FindRun(request.Required("run_id"));
        var (metrics, parameters, tags) = (request.Array("metrics").Count, request.Array("params").Count, request.Array("tags").Count);
        foreach (var (count, limit, what) in new[] { (metrics, 1000, "metrics"), (parameters, 100, "params"), (tags, 100, "tags"), (metrics + parameters + tags, 1000, "metrics, params, and tags in total") })
        {
            if (count > limit)
            {
                throw new MlflowError(400, "INVALID_PARAMETER_VALUE",
                    $"A batch logging request can contain at most {limit} {what}. Got {count}. Please split up {what} across multiple requests and try again.");
            }
        }

        foreach (var param in request.Array("params").OfType<JsonObject>())
        {
            var key = (string)param["key"]!;
            var value = Truncated((string?)param["value"] ?? "", MaxParamValueLength);
            if (run.Params.TryGetValue(key, out var existing) && existing != value)
            {
                throw new MlflowError(400, "INVALID_PARAMETER_VALUE",
                    $"Changing param values is not allowed. Param with key='{key}' was already logged with value='{existing}' for run ID='{run.Id}'. Attempted logging new value '{value}'.");
            }

            run.Params[key] = value;
        }

        foreach (var metric in request.Array("metrics").OfType<JsonObject>())
        {
            run.Metrics.Add(new MetricState((string)metric["key"]!, (double)metric["value"]!, (long?)metric["timestamp"] ?? Now(), (long?)metric["step"] ?? 0));
        }

        foreach (var tag in request.Tags("tags"))
        {
            run.Tags[tag.Key] = Truncated(tag.Value, MaxTagValueLength);
        }

        return Ok([]);
    }

    private IResult LogInputs(Request request)
    {
        var run = FindRun(request.Required("run_id"));
        var inputs = request.Array("datasets").OfType<JsonObject>().ToArray();
        foreach (var input in inputs)
        {
            ValidateDataset(input["dataset"] as JsonObject ?? []);
            foreach (var tag in (input["tags"] as JsonArray ?? []).OfType<JsonObject>())
            {
                foreach (var (field, limit) in new[] { ("key", 255), ("value", 500) })
                {
                    if (((string?)tag[field])?.Length > limit)
                    {
                        throw new MlflowError(400, "INVALID_PARAMETER_VALUE", $"'{field}' exceeds the maximum length of {limit} characters");
                    }
                }
            }
        }

        foreach (var input in inputs)
        {
            run.Inputs.Add(input.DeepClone().AsObject());
        }

        return Ok([]);
    }

    private IResult GetMetricHistory(Request request)
    {
        var run = FindRun(request.Required("run_id"));
        var key = request.Required("metric_key");
        var history = run.Metrics.Where(m => m.Key == key).Select(m => (JsonNode)m.ToJson()).ToArray();
        if (!IsMlflow3)
        {
            // 2.17 ignores max_results and answers the whole history.
            return Ok(history.Length == 0 ? [] : new JsonObject { ["metrics"] = new JsonArray(history) });
        }

        // 3.x reads a missing max_results as 0: no values, and a page token (offset 0) that never advances.
        var maxResults = (int?)request.Long("max_results") ?? 0;
        if (maxResults > MaxHistoryResults)
        {
            throw new MlflowError(400, "INVALID_PARAMETER_VALUE",
                $"Invalid value {maxResults} for parameter 'max_results' supplied. It must be at most {MaxHistoryResults}.");
        }

        var answer = new JsonObject();
        var page = history.Take(maxResults).ToArray();
        if (page.Length > 0)
        {
            answer["metrics"] = new JsonArray(page);
        }

        if (history.Length > maxResults)
        {
            answer["next_page_token"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{{\"offset\": {maxResults}}}"));
        }

        return Ok(answer);
    }

    private IResult SearchRuns(Request request)
    {
        var experimentIds = request.Array("experiment_ids").Select(e => (string)e!).ToHashSet();
        var conditions = ParseFilter(request.Optional("filter"), RunFilterPattern());
        IEnumerable<RunState> runs = _runs.Values.Where(r => experimentIds.Contains(r.ExperimentId) && conditions.All(c => RunMatches(r, c)));
        runs = OrderRuns(runs, request.Array("order_by").Select(o => (string)o!).FirstOrDefault());
        var maxResults = (int?)request.Long("max_results") ?? 1000;
        var page = runs.Take(maxResults).Select(r => (JsonNode)r.ToJson()).ToArray();
        return Ok(page.Length == 0 ? [] : new JsonObject { ["runs"] = new JsonArray(page) });
    }

    private static IEnumerable<RunState> OrderRuns(IEnumerable<RunState> runs, string? orderBy)
    {
        var parts = (orderBy ?? "start_time DESC").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var descending = parts.Length < 2 || parts[1].Equals("DESC", StringComparison.OrdinalIgnoreCase);
        var field = parts[0].Replace("attributes.", "", StringComparison.Ordinal);
        Func<RunState, double> key = field.StartsWith("metrics.", StringComparison.Ordinal)
            ? r => r.LatestMetric(field["metrics.".Length..].Trim('`'))?.Value ?? double.NegativeInfinity
            : r => r.StartTime;
        return descending ? runs.OrderByDescending(key) : runs.OrderBy(key);
    }

    private static bool RunMatches(RunState run, Match condition)
    {
        var kind = condition.Groups["kind"].Value.ToLowerInvariant();
        var key = condition.Groups["key"].Value.Trim('`', '"');
        var op = condition.Groups["op"].Value;
        var literal = condition.Groups["value"].Value;
        if (kind == "metrics")
        {
            return run.LatestMetric(key) is { } metric && Compare(metric.Value, op, double.Parse(literal, CultureInfo.InvariantCulture));
        }

        var text = Unquote(literal);
        var actual = kind switch
        {
            "params" => run.Params.GetValueOrDefault(key),
            "tags" => run.Tags.GetValueOrDefault(key),
            _ => key switch
            {
                "status" => run.Status,
                "run_name" => run.Name,
                _ => throw new MlflowError(400, "INVALID_PARAMETER_VALUE", $"Invalid attribute key '{key}' specified."),
            },
        };
        return actual is not null && op switch
        {
            "=" => actual == text,
            "!=" => actual != text,
            _ => throw new MlflowError(400, "INVALID_PARAMETER_VALUE", $"Invalid comparator '{op}' for a string value."),
        };
    }

    private static bool Compare(double actual, string op, double expected) => op switch
    {
        ">" => actual > expected,
        ">=" => actual >= expected,
        "<" => actual < expected,
        "<=" => actual <= expected,
        "=" => actual == expected,
        "!=" => actual != expected,
        _ => throw new MlflowError(400, "INVALID_PARAMETER_VALUE", $"Invalid comparator '{op}'."),
    };

    [GeneratedRegex(@"^\s*(?<kind>metrics|params|tags|attributes|)\.?(?<key>`[^`]+`|""[^""]+""|[\w.\-]+)\s*(?<op>>=|<=|!=|=|>|<)\s*(?<value>'[^']*'|""[^""]*""|-?[\d.eE+\-]+)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex RunFilterPattern();

    [GeneratedRegex(@"^\s*(?<kind>)(?<key>name|run_id)\s*(?<op>=|LIKE|ILIKE)\s*(?<value>'[^']*')\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex RegistryFilterPattern();

    private static List<Match> ParseFilter(string? filter, Regex pattern)
    {
        if (string.IsNullOrWhiteSpace(filter))
        {
            return [];
        }

        return Regex.Split(filter, @"\s+AND\s+", RegexOptions.IgnoreCase).Select(part =>
        {
            var match = pattern.Match(part);
            return match.Success
                ? match
                : throw new MlflowError(400, "INVALID_PARAMETER_VALUE", $"Invalid filter '{filter}': this test double does not model '{part}'.");
        }).ToList();
    }

    // ---- Artifacts ----

    private IResult ListRunArtifacts(Request request)
    {
        var run = FindRun(request.Required("run_id"));
        var path = request.Optional("path")?.Trim('/') ?? "";
        if (!IsMlflow3 && request.Optional("path") is "")
        {
            // 2.17 lists nothing for an empty path= (the root is listed without the parameter).
            return Ok(new JsonObject { ["root_uri"] = run.ArtifactUri });
        }

        var root = $"{run.ExperimentId}/{run.Id}/artifacts";
        var files = ListDirectory(path.Length == 0 ? root : $"{root}/{path}")
            .Select(f => f with { Path = path.Length == 0 ? f.Path : $"{path}/{f.Path}" });
        return Ok(WithFiles(new JsonObject { ["root_uri"] = run.ArtifactUri }, files));
    }

    private IResult ListProxiedArtifacts(Request request) =>
        Ok(WithFiles([], ListDirectory(request.Optional("path")?.Trim('/') ?? "")));

    /// <summary>An empty listing has no <c>files</c> field at all.</summary>
    private static JsonObject WithFiles(JsonObject answer, IEnumerable<FileEntry> files)
    {
        var list = FilesJson(files);
        if (list.Count > 0)
        {
            answer["files"] = list;
        }

        return answer;
    }

    private List<FileEntry> ListDirectory(string directory)
    {
        var prefix = directory.Length == 0 ? "" : directory + "/";
        return _artifacts.Where(a => a.Key.StartsWith(prefix, StringComparison.Ordinal))
            .Select(a => (Remainder: a.Key[prefix.Length..], Size: a.Value.Content.LongLength))
            .GroupBy(a => a.Remainder.Split('/')[0])
            .Select(g => g.Any(a => a.Remainder.Contains('/')) ? new FileEntry(g.Key, true, null) : new FileEntry(g.Key, false, g.Single().Size))
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();
    }

    private static JsonArray FilesJson(IEnumerable<FileEntry> files) => new(files.Select(f =>
    {
        var node = new JsonObject { ["path"] = f.Path, ["is_dir"] = f.IsDir };
        if (f.Size is { } size)
        {
            node["file_size"] = size;
        }

        return (JsonNode)node;
    }).ToArray());

    private async Task<IResult> UploadArtifactAsync(string path, HttpContext context)
    {
        // MLflow 3 stores what Flask reads: an empty file when the body arrived chunked, and answers 200 all the same.
        var content = await ReadBodyAsync(context.Request);
        if (FailingUploadsOf is { } failing && path.EndsWith(failing, StringComparison.Ordinal))
        {
            return Error(500, "INTERNAL_ERROR", $"Failed to upload {path.Trim('/')} to {ArtifactsDestination}: Could not connect to the endpoint URL");
        }

        lock (_gate)
        {
            _artifacts[path.Trim('/')] = (content, ContentTypeOf(path));
        }

        return Ok([]);
    }

    private IResult DownloadArtifact(string path)
    {
        lock (_gate)
        {
            if (FailingDownloads > 0)
            {
                FailingDownloads--;
                return Error(500, "INTERNAL_ERROR",
                    $"The following failures occurred while downloading one or more artifacts from {ArtifactsDestination}:\n##### File {path.Trim('/')} #####\nCould not connect to the endpoint URL");
            }

            return _artifacts.TryGetValue(path.Trim('/'), out var artifact)
                ? Results.Bytes(artifact.Content, artifact.ContentType)
                : Error(500, "INTERNAL_ERROR",
                    $"The following failures occurred while downloading one or more artifacts from {ArtifactsDestination}:\n##### File {path.Trim('/')} #####\nAn error occurred (404) when calling the HeadObject operation: Not Found");
        }
    }

    private static string ContentTypeOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".zip" => "application/zip",
        ".json" => "application/json",
        ".png" => "image/png",
        "" or ".txt" or ".yaml" or ".yml" or ".md" => "text/plain",
        _ => "application/octet-stream",
    };

    // ---- Registry ----

    private IResult CreateRegisteredModel(Request request)
    {
        var name = request.Required("name");
        if (_models.ContainsKey(name))
        {
            throw new MlflowError(400, "RESOURCE_ALREADY_EXISTS",
                $"Registered Model (name={name}) already exists. Error: (psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint \"registered_model_pk\"");
        }

        var model = new ModelState(name, request.Optional("description") ?? "", Now());
        foreach (var tag in request.Tags("tags"))
        {
            model.Tags[tag.Key] = tag.Value;
        }

        _models[name] = model;
        return Ok(new JsonObject { ["registered_model"] = model.ToJson() });
    }

    private IResult GetRegisteredModel(Request request) =>
        Ok(new JsonObject { ["registered_model"] = FindModel(request.Required("name")).ToJson() });

    private IResult SearchRegisteredModels(Request request)
    {
        var conditions = ParseFilter(request.Optional("filter"), RegistryFilterPattern());
        var models = _models.Values.Where(m => conditions.All(c => TextMatches(m.Name, c))).OrderBy(m => m.Name, StringComparer.Ordinal)
            .Take((int?)request.Long("max_results") ?? 100).Select(m => (JsonNode)m.ToJson()).ToArray();
        return Ok(models.Length == 0 ? [] : new JsonObject { ["registered_models"] = new JsonArray(models) });
    }

    private IResult GetLatestVersions(Request request)
    {
        var model = FindModel(request.Required("name"));
        var stages = request.Strings("stages");
        var versions = model.LatestPerStage()
            .Where(v => stages.Count == 0 || stages.Contains(v.Stage, StringComparer.OrdinalIgnoreCase))
            .Select(v => (JsonNode)v.ToJson(withAliases: false)).ToArray();
        return Ok(versions.Length == 0 ? [] : new JsonObject { ["model_versions"] = new JsonArray(versions) });
    }

    private IResult SetAlias(Request request)
    {
        var model = FindModel(request.Required("name"));
        var alias = request.Required("alias");
        var version = FindVersion(model, request.Required("version"));
        model.Aliases[alias] = version.Version;
        model.Touch(Now());
        return Ok([]);
    }

    private IResult GetByAlias(Request request)
    {
        var name = request.Required("name");
        var alias = request.Required("alias");
        if (!_models.TryGetValue(name, out var model) || !model.Aliases.TryGetValue(alias, out var version))
        {
            throw new MlflowError(400, "INVALID_PARAMETER_VALUE", $"Registered model alias {alias} not found.");
        }

        return Ok(new JsonObject { ["model_version"] = model.Versions[version].ToJson(withAliases: true) });
    }

    private IResult DeleteAlias(Request request)
    {
        var model = FindModel(request.Required("name"));
        model.Aliases.Remove(request.Required("alias"));
        return Ok([]);
    }

    private IResult CreateModelVersion(Request request)
    {
        var name = request.Required("name");
        var source = request.Required("source");
        var model = FindModel(name);
        var runId = request.Optional("run_id");
        if (runId is not null)
        {
            FindRun(runId);
        }

        var number = (model.Versions.Count + 1).ToString(CultureInfo.InvariantCulture);
        var version = new VersionState(model, number, source, runId, request.Optional("description") ?? "", Now());
        foreach (var tag in request.Tags("tags"))
        {
            version.Tags[tag.Key] = tag.Value;
        }

        model.Versions[number] = version;
        model.Touch(version.Created);
        return Ok(new JsonObject { ["model_version"] = version.ToJson(withAliases: false) });
    }

    private IResult GetModelVersion(Request request)
    {
        var model = FindModel(request.Required("name"), versionQuery: request.Optional("version"));
        return Ok(new JsonObject { ["model_version"] = FindVersion(model, request.Required("version")).ToJson(withAliases: true) });
    }

    private IResult SearchModelVersions(Request request)
    {
        var conditions = ParseFilter(request.Optional("filter"), RegistryFilterPattern());
        var versions = _models.Values.SelectMany(m => m.Versions.Values)
            .Where(v => conditions.All(c => TextMatches(c.Groups["key"].Value.Equals("run_id", StringComparison.OrdinalIgnoreCase) ? v.RunId ?? "" : v.Model.Name, c)))
            .OrderBy(v => v.Model.Name, StringComparer.Ordinal).ThenByDescending(v => int.Parse(v.Version, CultureInfo.InvariantCulture))
            .Take((int?)request.Long("max_results") ?? 10_000)
            .Select(v => (JsonNode)v.ToJson(withAliases: false)).ToArray();
        return Ok(versions.Length == 0 ? [] : new JsonObject { ["model_versions"] = new JsonArray(versions) });
    }

    private IResult GetDownloadUri(Request request)
    {
        var model = FindModel(request.Required("name"), versionQuery: request.Optional("version"));
        return Ok(new JsonObject { ["artifact_uri"] = FindVersion(model, request.Required("version")).Source });
    }

    private IResult TransitionStage(Request request)
    {
        var model = FindModel(request.Required("name"));
        var version = FindVersion(model, request.Required("version"));
        var requested = request.Required("stage");
        var stage = Stages.FirstOrDefault(s => s.Equals(requested, StringComparison.OrdinalIgnoreCase))
            ?? throw new MlflowError(400, "INVALID_PARAMETER_VALUE",
                $"Invalid Model Version stage: {requested}. Value must be one of {string.Join(", ", Stages)}.");
        var now = Now();
        var archive = request.Bool("archive_existing_versions");
        if (archive && stage is not ("Production" or "Staging"))
        {
            // The store raises this without an error code: INTERNAL_ERROR, a 500.
            throw new MlflowError(500, "INTERNAL_ERROR",
                $"Model version transition cannot archive existing model versions because '{requested}' is not an Active stage. Valid stages are ['Staging', 'Production']");
        }

        if (archive)
        {
            foreach (var other in model.Versions.Values.Where(v => v != version && v.Stage == stage))
            {
                other.Stage = "Archived";
                other.Updated = now;
            }
        }

        version.Stage = stage;
        version.Updated = now;
        model.Touch(now);
        return Ok(new JsonObject { ["model_version"] = version.ToJson(withAliases: true) });
    }

    private IResult SetModelVersionTag(Request request)
    {
        var model = FindModel(request.Required("name"));
        var version = FindVersion(model, request.Required("version"));
        version.Tags[request.Required("key")] = request.Optional("value") ?? "";
        return Ok([]);
    }

    private static readonly string[] Stages = ["None", "Staging", "Production", "Archived"];

    private static bool TextMatches(string actual, Match condition)
    {
        var expected = Unquote(condition.Groups["value"].Value);
        return condition.Groups["op"].Value.ToUpperInvariant() switch
        {
            "=" => actual == expected,
            "LIKE" => Regex.IsMatch(actual, "^" + Regex.Escape(expected).Replace("%", ".*").Replace("_", ".") + "$"),
            _ => Regex.IsMatch(actual, "^" + Regex.Escape(expected).Replace("%", ".*").Replace("_", ".") + "$", RegexOptions.IgnoreCase),
        };
    }

    private RunState FindRun(string runId) =>
        _runs.GetValueOrDefault(runId) ?? throw new MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"Run with id={runId} not found");

    private ModelState FindModel(string name, string? versionQuery = null) =>
        _models.GetValueOrDefault(name) ?? throw (versionQuery is null
            ? new MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"Registered Model with name={name} not found")
            : new MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"Model Version (name={name}, version={versionQuery}) not found"));

    private static VersionState FindVersion(ModelState model, string version) =>
        model.Versions.GetValueOrDefault(version)
            ?? throw new MlflowError(404, "RESOURCE_DOES_NOT_EXIST", $"Model Version (name={model.Name}, version={version}) not found");

    // ---- Answers ----

    // JSON answers are "application/json" with no charset, as the server writes them.
    private static IResult Ok(JsonObject body) =>
        Results.Text(body.Count == 0 ? "{}" : body.ToJsonString(Pretty), "application/json");

    private IResult Error(int status, string code, string message)
    {
        var body = new StringBuilder($"{{\"error_code\": {JsonSerializer.Serialize(code, Pretty)}, \"message\": {JsonSerializer.Serialize(message, Pretty)}");
        if (IsMlflow3 && ErrorClassification.TryGetValue(code, out var classification))
        {
            body.Append($", \"sqlstate\": \"{classification.SqlState}\", \"error_class\": \"{classification.ErrorClass}\"");
        }

        return Results.Text(body.Append('}').ToString(), "application/json", statusCode: status);
    }

    private static IResult HtmlError(int status) => Results.Text(status == 404
            ? "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n"
            : "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n",
        "text/html; charset=utf-8", statusCode: status);

    private static IResult Text(string text, string contentType) => Results.Text(text, contentType);

    private static string Unquote(string literal) => literal.Length >= 2 && literal[0] is '\'' or '"' ? literal[1..^1] : literal;

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private sealed record FileEntry(string Path, bool IsDir, long? Size);

    private sealed class MlflowError(int status, string code, string message) : Exception(message)
    {
        public int Status { get; } = status;

        public string Code { get; } = code;
    }
}
