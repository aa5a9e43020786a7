extern alias inference;

using System.Net;
using Diabetes.Core.Encounters;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using inference::Diabetes.InferenceApi.Apis;
using Diabetes.Testing.Models;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>Bad input never reaches the model and never gets a 500: a 400 ValidationProblem names every bad field.</summary>
public class ValidationTests : IAsyncLifetime
{
    private InferenceApp _app = null!;

    public async Task InitializeAsync()
    {
        _app = await InferenceApp.StartAsync();
        await _app.WaitForVersionAsync((await TestModels.PublishAsync(_app.MlflowClient, TestModels.Logistic)).Version);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public static TheoryData<string, string, string> BadSingleRequests => new()
    {
        // case, field named, a part of its message
        { "missing required field", "age", "is required" },
        { "unknown category", "race", "one of Caucasian, AfricanAmerican, Hispanic, Asian, Other" },
        { "negative count", "num_medications", "from 0 to 81" },
        { "out-of-range id", "admission_type_id", "a code of IDs_mapping.csv: 1, 2, 3, 4, 5, 6, 7, 8" },
        { "string for a number", "time_in_hospital", "must be a JSON number, not a string" },
        { "number for a string", "insulin", "must be a JSON string, not a number" },
        { "extra field", "favourite_colour", "is not a field of a prediction request" },
        { "an id sent", "encounter_id", "is not an input" },
        { "a fraction for a count", "num_lab_procedures", "4.5 is not a whole number" },
        { "malformed diagnosis", "diag_1", "is not an ICD-9 code" },
        { "expired patient", "discharge_disposition_id", "died or went to hospice" },
        { "a boolean for a count", "number_emergency", "must be a JSON number, not a boolean" },
        { "an array for a category", "gender", "must be a JSON string, not an array" },
        { "a number too large for any count", "number_outpatient", "is not a whole number from 0 to 42" },
        { "a field sent twice", "race", "is sent more than once" },
        { "a lone surrogate escape", "$", "not valid Unicode" },
        { "too many properties", "$", "a request has at most 47 fields" },
        { "null body", "$", "must be a JSON object" },
        { "garbage", "$", "is not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(BadSingleRequests))]
    public async Task ABadRequestIsA400NamingTheField(string badCase, string field, string message)
    {
        // Arrange
        var request = TypicalEncounter.ToRequest();
        var typical = request.ToJsonString();
        HttpContent body = badCase switch
        {
            "null body" => Json("null"),
            "garbage" => Json(new string('x', 1_000_000)),
            "a field sent twice" => Json(typical[..^1] + ",\"race\":\"Asian\"}"),
            "a lone surrogate escape" => Json(typical.Replace("\"Caucasian\"", "\"\\ud800\"", StringComparison.Ordinal)),
            "a number too large for any count" => Json(typical.Replace("\"number_outpatient\":0", "\"number_outpatient\":1e400", StringComparison.Ordinal)),
            _ => Json(Spoil(request, badCase).ToJsonString()),
        };

        // Act
        using var response = await _app.CreateClient().PostAsync("/api/predictions", body);

        // Assert
        var errors = await ErrorsAsync(response);
        Assert.True(errors.TryGetValue(field, out var messages), $"{badCase}: no error for {field}: {string.Join("; ", errors.Keys)}");
        Assert.Contains(messages, m => m.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryBadFieldIsNamedAtOnce()
    {
        var request = TypicalEncounter.ToRequest();
        request["race"] = "Martian";
        request["num_procedures"] = -1;
        request["gender"] = 1;
        request.Remove("age");

        using var response = await _app.PredictAsync(request);

        var errors = await ErrorsAsync(response);
        Assert.Equal(["age", "gender", "num_procedures", "race"], errors.Keys.Order());
    }

    [Fact]
    public async Task FieldsTheDatasetLeavesUnknownMayBeNullAbsentOrAQuestionMarkAllAlike()
    {
        // Arrange: the same unknown race and specialty, said three ways
        var asNull = TypicalEncounter.ToRequest();
        asNull["race"] = null;
        asNull["medical_specialty"] = null;
        var absent = TypicalEncounter.ToRequest();
        absent.Remove("race");
        absent.Remove("medical_specialty");
        var asMarker = TypicalEncounter.ToRequest();
        asMarker["race"] = "?";
        asMarker["medical_specialty"] = "?";

        // Act
        var probabilities = new List<double>();
        foreach (var request in new[] { asNull, absent, asMarker })
        {
            probabilities.Add((await _app.PredictOkAsync(request)).Probability);
        }

        // Assert: one probability, other than the typical patient's
        Assert.Single(probabilities.Distinct());
        Assert.NotEqual((await _app.PredictOkAsync(TypicalEncounter.ToRequest())).Probability, probabilities[0]);
    }

    [Fact]
    public async Task AWholeNumberWrittenWithAFractionIsTheSameNumber()
    {
        var request = TypicalEncounter.ToRequest();
        request["time_in_hospital"] = 4.0;

        var prediction = await _app.PredictOkAsync(request);

        Assert.Equal((await _app.PredictOkAsync(TypicalEncounter.ToRequest())).Probability, prediction.Probability);
    }

    [Fact]
    public async Task ABodyOverTheLimitIsRefusedAs413()
    {
        var huge = new string(' ', 2 << 20) + TypicalEncounter.ToRequest().ToJsonString();

        using var response = await _app.CreateClient().PostAsync("/api/predictions", Json(huge));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task ABatchOfManyBadEncountersListsTheFirstErrorsOnly()
    {
        var bad = TypicalEncounter.ToRequest();
        bad.Remove("age");

        using var response = await _app.PredictAsync(new JsonArray(Enumerable.Range(0, 1_000).Select(_ => bad.DeepClone()).ToArray()), "/api/predictions/batch");

        var errors = await ErrorsAsync(response);
        Assert.Equal(PredictionsApi.MaxBatchErrors + 1, errors.Count);
        Assert.Contains("were not checked", errors["$"][0]);
    }

    public static TheoryData<string, string, string> BadBatches => new()
    {
        { "empty array", "$", "a batch holds 1 to 1,000" },
        { "1,001 encounters", "$", "holds 1,001 encounters" },
        { "an object, not an array", "$", "must be a JSON array" },
        { "one bad encounter among good ones", "[2].age", "is required" },
        { "an unknown field in one encounter", "[1].favourite_colour", "is not a field of a prediction request" },
        { "a non-object item", "[1]", "must be a JSON object" },
    };

    [Theory]
    [MemberData(nameof(BadBatches))]
    public async Task ABadBatchIsA400NamingTheEncounterAndField(string badCase, string field, string message)
    {
        var typical = TypicalEncounter.ToRequest();
        JsonNode body = badCase switch
        {
            "empty array" => new JsonArray(),
            "1,001 encounters" => new JsonArray(Enumerable.Range(0, 1_001).Select(_ => typical.DeepClone()).ToArray()),
            "an object, not an array" => typical,
            "one bad encounter among good ones" => new JsonArray(typical.DeepClone(), typical.DeepClone(), Spoil(typical, "missing required field"), typical.DeepClone()),
            "an unknown field in one encounter" => new JsonArray(typical.DeepClone(), Spoil(typical, "extra field")),
            _ => new JsonArray(typical.DeepClone(), JsonValue.Create(7), typical.DeepClone()),
        };

        using var response = await _app.PredictAsync(body, "/api/predictions/batch");

        var errors = await ErrorsAsync(response);
        Assert.True(errors.TryGetValue(field, out var messages), $"{badCase}: no error for {field}: {string.Join("; ", errors.Keys)}");
        Assert.Contains(messages, m => m.Contains(message, StringComparison.Ordinal));
        Assert.Single(errors);
    }

    [Fact]
    public async Task ABodyThatIsNotJsonIsRefusedAs415()
    {
        using var response = await _app.CreateClient().PostAsync("/api/predictions", new StringContent("race=Caucasian", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    /// <summary>The typical request with one thing wrong, as named by the case.</summary>
    private static JsonObject Spoil(JsonObject typical, string badCase)
    {
        var request = (JsonObject)typical.DeepClone();
        switch (badCase)
        {
            case "missing required field": request.Remove("age"); break;
            case "unknown category": request["race"] = "Martian"; break;
            case "negative count": request["num_medications"] = -3; break;
            case "out-of-range id": request["admission_type_id"] = 99; break;
            case "string for a number": request["time_in_hospital"] = "4"; break;
            case "number for a string": request["insulin"] = 1; break;
            case "extra field": request["favourite_colour"] = "blue"; break;
            case "an id sent": request["encounter_id"] = 12345; break;
            case "a fraction for a count": request["num_lab_procedures"] = 4.5; break;
            case "malformed diagnosis": request["diag_1"] = "heart"; break;
            case "expired patient": request["discharge_disposition_id"] = 11; break;
            case "a boolean for a count": request["number_emergency"] = true; break;
            case "an array for a category": request["gender"] = new JsonArray(); break;
            case "too many properties":
                foreach (var i in Enumerable.Range(0, 100))
                {
                    request[$"extra_{i}"] = i;
                }

                break;
            default: throw new ArgumentOutOfRangeException(nameof(badCase), badCase, null);
        }

        return request;
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static async Task<Dictionary<string, string[]>> ErrorsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        return problem.GetProperty("errors").Deserialize<Dictionary<string, string[]>>()!;
    }
}
