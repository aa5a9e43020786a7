extern alias inference;

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Diabetes.Core.Cleaning;
using Diabetes.Core.Encounters;
using Diabetes.Core.Modeling;
using Diabetes.Trainer.Training;
using Diabetes.Testing;
using Diabetes.Testing.Models;
using inference::Diabetes.InferenceApi.Apis;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// <c>explain=true</c>: the learner's contributions summed back to the request's own fields, raw and in the score's
/// units, over the same scorer as the probability, for every learner family the trainer chooses from.
/// </summary>
public class ExplanationTests(ITestOutputHelper output)
{
    private const string ExplainAll = "/api/predictions?explain=true&top=50";

    /// <summary>Encounters no test model was trained or validated on.</summary>
    private static IEnumerable<(RawEncounter Raw, ModelInput Input)> Unseen => TestEncounters.All.Skip(10_000);

    [Fact]
    public void EverySlotOfTheFeatureVectorGoesBackToRequestFields()
    {
        // Arrange
        var model = ReadmissionModel.Load(TestModels.Logistic.Model.ToZip());
        var requestFields = EncounterSchema.FeatureColumns.Select(c => c.SourceName).ToHashSet(StringComparer.Ordinal);
        string[] visits = ["number_outpatient", "number_emergency", "number_inpatient"];

        // Act
        var fields = model.Fields;

        // Assert: every slot to request fields; one field each, but for the three inputs that add fields up
        Assert.Null(model.ExplanationUnavailable);
        Assert.NotNull(fields);
        var slots = fields.SlotNames.Select((name, slot) => (Name: name, Fields: fields.FieldsOf(slot))).ToArray();
        Assert.All(slots, slot => Assert.Subset(requestFields, slot.Fields.ToHashSet()));
        Assert.Equal(visits, slots.Single(s => s.Name == nameof(ModelInput.TotalPriorVisits)).Fields);
        Assert.Equal(EncounterCleaner.CountedMedications, slots.Single(s => s.Name == nameof(ModelInput.ActiveMedications)).Fields);
        Assert.Equal(EncounterCleaner.CountedMedications, slots.Single(s => s.Name == nameof(ModelInput.ChangedMedications)).Fields);
        string[] summed = [nameof(ModelInput.TotalPriorVisits), nameof(ModelInput.ActiveMedications), nameof(ModelInput.ChangedMedications)];
        Assert.All(slots.Where(s => !summed.Contains(s.Name)), slot => Assert.Single(slot.Fields));
        Assert.All(slots.Where(s => s.Name.StartsWith("RaceOneHot.", StringComparison.Ordinal)), s => Assert.Equal(new[] { "race" }, s.Fields));
        Assert.All(slots.Where(s => s.Name.StartsWith("Diag1", StringComparison.Ordinal)), s => Assert.Equal(new[] { "diag_1" }, s.Fields));
        Assert.Contains(slots, s => s.Name.StartsWith("Diag1GroupOneHot.", StringComparison.Ordinal));
        Assert.Contains(slots, s => s.Name.StartsWith("Diag1CodeOneHot.", StringComparison.Ordinal));
        Assert.All(slots.Where(s => s.Name.StartsWith("A1CResultOneHot.", StringComparison.Ordinal)), s => Assert.Equal(new[] { "A1Cresult" }, s.Fields));
        Assert.All(slots.Where(s => s.Name.StartsWith("MedicationsOneHot.[0].", StringComparison.Ordinal)), s => Assert.Equal(new[] { "metformin" }, s.Fields));
        Assert.Equal(new[] { "age" }, slots.Single(s => s.Name == nameof(ModelInput.AgeYears)).Fields);
        // Every request field the model reads is reached: examide and citoglipton, not model inputs of their own,
        // through the medication counts; weight never. The documentation says how many.
        Assert.Equal(requestFields.Where(field => field != "weight").Order(), fields.Fields.Order());
        Assert.Contains($"every field the model reads ({fields.Fields.Count})", File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "docs", "serving.md")));
    }

    [Fact]
    public async Task AMedicationTheModelDoesNotReadGetsItsShareOfTheMedicationCounts()
    {
        // Arrange: the typical patient on insulin, and on examide too
        await using var app = await InferenceApp.StartAsync();
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        var request = TypicalEncounter.ToRequest();
        request["examide"] = "Steady";
        var model = ReadmissionModel.Load(TestModels.Logistic.Model.ToZip());
        var input = app.Services.GetRequiredService<EncounterReader>().Read(JsonSerializer.SerializeToElement(request), "", new Dictionary<string, string[]>())!;
        var (features, learner) = Featurized(model, input);
        var weights = ((ISingleFeaturePredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>>)learner).Model.SubModel.Weights.ToArray();
        var active = model.Fields!.SlotNames.ToList().IndexOf(nameof(ModelInput.ActiveMedications));

        // Act
        var explained = await ExplainAsync(app, ExplainAll, request);

        // Assert: two medications taken, so examide and insulin each get half of the active medications' contribution
        var contributions = explained.GetProperty("explanation").GetProperty("contributions").EnumerateArray()
            .ToDictionary(c => c.GetProperty("field").GetString()!, c => c.GetProperty("contribution").GetDouble());
        Assert.Equal(weights[active] * features[active] / 2, contributions["examide"], 1e-5);
        Assert.Equal("Steady", explained.GetProperty("explanation").GetProperty("contributions").EnumerateArray()
            .Single(c => c.GetProperty("field").GetString() == "examide").GetProperty("value").GetString());
        Assert.DoesNotContain("citoglipton", contributions.Keys);
    }

    [Fact]
    public async Task ForALinearModelAContributionIsWeightTimesFeatureValue()
    {
        // Arrange: an encounter with prior visits of two kinds, whose sum is an input of its own
        await using var app = await InferenceApp.StartAsync();
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        var (raw, input) = Unseen.First(e => e.Input.NumberInpatient > 0 && e.Input.NumberEmergency + e.Input.NumberOutpatient > 0);
        var model = ReadmissionModel.Load(TestModels.Logistic.Model.ToZip());
        var (features, learner) = Featurized(model, input);
        var linear = ((ISingleFeaturePredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>>)learner).Model.SubModel;
        var weights = linear.Weights.ToArray();
        var slots = model.Fields!;
        double WeightTimesValue(int slot) => weights[slot] * features[slot];

        // Act
        var plain = await app.PredictOkAsync(TestEncounters.Request(raw));
        var explained = await ExplainAsync(app, ExplainAll, TestEncounters.Request(raw));

        // Assert: a field fed by its own slots gets w × x summed over them; a field that is also a part of the prior
        // visits gets its share of that input too; nothing is lost: all of them add up to the score less the bias
        var explanation = explained.GetProperty("explanation");
        var contributions = explanation.GetProperty("contributions").EnumerateArray()
            .ToDictionary(c => c.GetProperty("field").GetString()!, c => c.GetProperty("contribution").GetDouble());
        var totalPriorVisits = slots.SlotNames.ToList().IndexOf(nameof(ModelInput.TotalPriorVisits));
        // (The medications' shares of the active and changed medications are left to the total.)
        foreach (var (field, contribution) in contributions.Where(c => !EncounterCleaner.CountedMedications.Contains(c.Key)))
        {
            var own = Enumerable.Range(0, weights.Length).Where(slot => slots.FieldsOf(slot) is [var only] && only == field).Sum(WeightTimesValue);
            var visits = field switch
            {
                "number_outpatient" => input.NumberOutpatient,
                "number_emergency" => input.NumberEmergency,
                "number_inpatient" => input.NumberInpatient,
                _ => 0,
            };
            Assert.Equal(own + visits / input.TotalPriorVisits * WeightTimesValue(totalPriorVisits), contribution, 1e-4);
        }

        var all = Enumerable.Range(0, weights.Length).Sum(WeightTimesValue);
        Assert.Equal(all, contributions.Values.Sum(), 1e-4);
        Assert.Equal(all + linear.Bias, explanation.GetProperty("score").GetDouble(), 1e-4);
        Assert.Contains(contributions.Keys, field => field == "number_inpatient");
        Assert.Equal(plain.Probability, explained.GetProperty("probability").GetDouble());
        Assert.Equal(PredictionExplanation.ScoreUnits, explanation.GetProperty("units").GetString());
    }

    public static TheoryData<string> TreeModels => ["LightGbm", "FastTree", "FastForest"];

    [Theory]
    [MemberData(nameof(TreeModels))]
    public async Task ForATreeModelTheSumOfContributionsRanksEncountersAsTheScoreDoes(string algorithm)
    {
        // Arrange
        var trained = algorithm switch { "LightGbm" => TestModels.LightGbm, "FastTree" => TestModels.FastTree, _ => TestModels.FastForest };
        await using var app = await InferenceApp.StartAsync();
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, trained)).Version);
        var requests = Unseen.Take(PredictionLimits.MaxBatchSize).Select(e => (JsonNode)TestEncounters.Request(e.Raw)).ToArray();

        // Act
        var plain = await app.PredictBatchOkAsync(requests.Select(r => r.DeepClone()));
        var explained = new List<JsonElement>();
        foreach (var chunk in requests.Chunk(PredictionLimits.MaxExplainedBatchSize))
        {
            explained.AddRange(await ExplainAsync(app, "/api/predictions/batch?explain=true&top=50", new JsonArray([.. chunk])) is var batch
                ? batch.EnumerateArray() : []);
        }

        // Assert: the same probabilities; every field's contribution is there (fewer than 50); their sums rank the
        // encounters as the learner's scores do
        Assert.Equal(plain.Select(p => p.Probability), explained.Select(e => e.GetProperty("probability").GetDouble()));
        var explanations = explained.Select(e => e.GetProperty("explanation")).ToArray();
        Assert.All(explanations, e => Assert.InRange(e.GetProperty("contributions").GetArrayLength(), 1, PredictionLimits.MaxTop - 1));
        var sums = explanations.Select(e => e.GetProperty("contributions").EnumerateArray().Sum(c => c.GetProperty("contribution").GetDouble())).ToArray();
        var scores = explanations.Select(e => e.GetProperty("score").GetDouble()).ToArray();
        var spearman = Spearman(sums, scores);
        output.WriteLine($"{algorithm}: Spearman correlation of the sum of contributions with the score over {sums.Length:N0} encounters: {spearman:F3}");
        Assert.True(spearman >= 0.8, $"{algorithm}: Spearman {spearman:F3} < 0.8");
        Assert.All(explanations, e => Assert.NotEqual(JsonValueKind.Null, e.GetProperty("baseline").ValueKind));
    }

    [Fact]
    public async Task AnExplanationHoldsTheTopContributionsByRequestFieldWithTheRequestsValues()
    {
        // Arrange
        await using var app = await InferenceApp.StartAsync();
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.FastTree)).Version);
        var request = TestEncounters.Request(Unseen.First(e => e.Input.NumberInpatient > 0).Raw);

        // Act
        var defaultTop = await ExplainAsync(app, "/api/predictions?explain=true", request);
        var topThree = await ExplainAsync(app, "/api/predictions?explain=true&top=3", request);
        using var plain = await app.PredictAsync(request);

        // Assert: ten by default, largest first by size, each with the request's own value; the baseline of the
        // validation split; nothing more without explain
        var contributions = defaultTop.GetProperty("explanation").GetProperty("contributions").EnumerateArray().ToArray();
        Assert.Equal(PredictionLimits.DefaultTop, contributions.Length);
        var sizes = contributions.Select(c => Math.Abs(c.GetProperty("contribution").GetDouble())).ToArray();
        Assert.Equal(sizes.OrderDescending(), sizes);
        Assert.All(contributions, c => Assert.True(
            JsonNode.DeepEquals(request[c.GetProperty("field").GetString()!], JsonNode.Parse(c.GetProperty("value").GetRawText())), c.GetRawText()));
        Assert.Equal(contributions.Take(3).Select(c => c.GetRawText()),
            topThree.GetProperty("explanation").GetProperty("contributions").EnumerateArray().Select(c => c.GetRawText()));
        var baseline = defaultTop.GetProperty("explanation").GetProperty("baseline");
        Assert.Equal(TestModels.FastTree.Reference.Baseline!.Probability, baseline.GetProperty("probability").GetDouble(), 1e-9);
        Assert.Equal(2_000, baseline.GetProperty("encounters").GetInt64());
        Assert.False((await plain.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("explanation", out _));
    }

    [Fact]
    public async Task ALearnerWithoutContributionsAnswersWithExplanationNullAndWhy()
    {
        // Arrange
        await using var app = await InferenceApp.StartAsync();
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.WithoutContributions)).Version);
        var request = TestEncounters.Request(Unseen.First().Raw);

        // Act
        var single = await ExplainAsync(app, "/api/predictions?explain=true", request);
        using var batchResponse = await app.PredictAsync(new JsonArray(request.DeepClone(), request.DeepClone()), "/api/predictions/batch?explain=true");
        var batch = await batchResponse.Content.ReadFromJsonAsync<JsonElement>();
        var model = await app.CreateClient().GetFromJsonAsync<JsonElement>("/api/model");

        // Assert: the prediction, with a null explanation and the reason, which the served model's description gives too
        Assert.InRange(single.GetProperty("probability").GetDouble(), 0, 1);
        Assert.Equal(JsonValueKind.Null, single.GetProperty("explanation").ValueKind);
        Assert.Equal("ML.NET has no feature contribution calculation for LdSvmModelParameters", single.GetProperty("explanationUnavailable").GetString());
        Assert.Equal(HttpStatusCode.OK, batchResponse.StatusCode);
        Assert.All(batch.EnumerateArray(), p => Assert.Equal(JsonValueKind.Null, p.GetProperty("explanation").ValueKind));
        Assert.Equal(single.GetProperty("explanationUnavailable").GetString(), model.GetProperty("explanationUnavailable").GetString());
    }

    [Fact]
    public async Task ABadExplainOrTopIsA400NamingIt()
    {
        // Arrange
        await using var app = await InferenceApp.StartAsync();
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        (string Query, string Parameter)[] bad =
        [
            ("explain=true&top=0", "top"), ("explain=true&top=51", "top"), ("explain=true&top=ten", "top"), ("explain=true&top=-1", "top"),
            ("explain=yes", "explain"),
        ];

        foreach (var (query, parameter) in bad)
        {
            // Act
            using var single = await app.PredictAsync(TypicalEncounter.ToRequest(), $"/api/predictions?{query}");
            using var batch = await app.PredictAsync(new JsonArray(TypicalEncounter.ToRequest()), $"/api/predictions/batch?{query}");

            // Assert
            foreach (var response in new[] { single, batch })
            {
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal(new[] { parameter }, problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
            }
        }
    }

    [Fact]
    public async Task ABatchAskedToExplainHoldsAtMostAHundredEncounters()
    {
        // Arrange
        await using var app = await InferenceApp.StartAsync();
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        JsonArray Batch(int count) => new([.. Enumerable.Range(0, count).Select(_ => (JsonNode)TypicalEncounter.ToRequest())]);

        // Act
        using var tooMany = await app.PredictAsync(Batch(PredictionLimits.MaxExplainedBatchSize + 1), "/api/predictions/batch?explain=true");
        using var plain = await app.PredictAsync(Batch(PredictionLimits.MaxExplainedBatchSize + 1), "/api/predictions/batch");
        using var most = await app.PredictAsync(Batch(PredictionLimits.MaxExplainedBatchSize), "/api/predictions/batch?explain=true");

        // Assert: the 400 names the body and both limits; without explain the same batch is scored
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        var errors = (await tooMany.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal("holds 101 encounters; a batch holds 1 to 1,000, or 1 to 100 with explain=true", errors.GetProperty("$")[0].GetString());
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal(HttpStatusCode.OK, most.StatusCode);
    }

    [Fact]
    public async Task AnExplanationThatFailsIsAnsweredAsUnavailableWithTheExceptionKept()
    {
        // Arrange: the served version, and an encounter without the medication values its counts were made of (one
        // read back from CLEAN DATA), which the explanation cannot share
        await using var app = await InferenceApp.StartAsync();
        await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        var served = app.Services.GetRequiredService<inference::Diabetes.InferenceApi.Serving.ServingState>().Model!;
        var input = Unseen.First().Input.Copy();
        input.CountedMedications = [];

        // Act
        var outcome = served.Explain(input);

        // Assert: no explanation, a short reason, the exception for the log; the version stays explainable
        Assert.Null(outcome.Explained);
        Assert.Equal(inference::Diabetes.InferenceApi.Serving.ServedModel.ExplanationFailed, outcome.Unavailable);
        Assert.IsType<ArgumentException>(outcome.Failure);
        Assert.Null(served.ExplanationUnavailable);
        Assert.NotNull(served.Explain(Unseen.First().Input).Explained);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesExplainAndTop()
    {
        // Arrange
        await using var app = await InferenceApp.StartAsync();

        // Act
        var document = await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        // Assert
        foreach (var path in new[] { "/api/predictions", "/api/predictions/batch" })
        {
            var parameters = document.GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("parameters").EnumerateArray()
                .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("schema"));
            Assert.Equal("boolean", parameters["explain"].GetProperty("type").GetString());
            Assert.Equal(PredictionLimits.MaxTop, parameters["top"].GetProperty("maximum").GetInt32());
        }
    }

    private static async Task<JsonElement> ExplainAsync(InferenceApp app, string path, JsonNode request)
    {
        using var response = await app.PredictAsync(request.DeepClone(), path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The feature vector the learner reads for <paramref name="input"/> (through ML.NET alone), and the learner.</summary>
    private static (float[] Features, ITransformer Learner) Featurized(ReadmissionModel model, ModelInput input)
    {
        var ml = new MLContext(seed: 1);
        var chain = (TransformerChain<ITransformer>)model.Transformer;
        var featurizer = new TransformerChain<ITransformer>([.. chain.SkipLast(1)]);
        var featurized = featurizer.Transform(ml.Data.LoadFromEnumerable([input], model.InputSchema));
        var features = featurized.GetColumn<VBuffer<float>>(FeaturePipeline.FeaturesColumn).Single();
        return (features.DenseValues().ToArray(), chain.LastTransformer);
    }

    /// <summary>Spearman's rank correlation: Pearson's of the ranks, ties sharing their mean rank.</summary>
    private static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var (rx, ry) = (Ranks(x), Ranks(y));
        var (mx, my) = (rx.Average(), ry.Average());
        var covariance = rx.Zip(ry).Sum(p => (p.First - mx) * (p.Second - my));
        return covariance / Math.Sqrt(rx.Sum(r => (r - mx) * (r - mx)) * ry.Sum(r => (r - my) * (r - my)));
    }

    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }

            for (var i = start; i <= end; i++)
            {
                ranks[order[i]] = (start + end) / 2.0 + 1;
            }

            start = end + 1;
        }

        return ranks;
    }
}
