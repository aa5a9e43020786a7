using System.Text.Json.Nodes;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// What the service carries when it runs alone. In these tests it shares a process with the trainer's code, which
/// loads every learner's assembly and so would hide a missing one.
/// </summary>
public class DeploymentTests
{
    [Theory]
    [InlineData("Microsoft.ML.LightGbm")]
    [InlineData("Microsoft.ML.FastTree")]
    public void TheServiceShipsTheAssemblyOfEveryLearnerFamilyItMayLoad(string assembly)
    {
        // A saved model names the assembly of its learner; without it, loading fails with FileNotFoundException.
        var deps = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Diabetes.InferenceApi.deps.json")))!;
        var runtimeAssemblies = deps["targets"]!.AsObject().Single().Value!.AsObject()
            .SelectMany(library => library.Value?["runtime"]?.AsObject().Select(file => Path.GetFileNameWithoutExtension(file.Key)) ?? []);

        Assert.Contains(assembly, runtimeAssemblies);
    }
}
