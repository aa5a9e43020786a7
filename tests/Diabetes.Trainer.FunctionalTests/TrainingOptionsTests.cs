using Diabetes.Trainer.Training;
using Microsoft.Extensions.Options;

namespace Diabetes.Trainer.FunctionalTests;

public class TrainingOptionsTests
{
    [Fact]
    public void NoAlgorithmsMeansEveryCandidate()
    {
        Assert.Equal(Candidates.All, new TrainingOptions().SelectedCandidates());
        Assert.Equal(Candidates.All, new TrainingOptions { Algorithms = " , " }.SelectedCandidates());
    }

    [Fact]
    public void NamedFamiliesKeepTheirCandidatesOnlyWhateverTheCase()
    {
        var selected = new TrainingOptions { Algorithms = "lbfgslogisticregression, FastForest" }.SelectedCandidates();

        Assert.Equal(["FastForest", "LbfgsLogisticRegression", "LbfgsLogisticRegression"], selected.Select(c => c.Algorithm).Order());
    }

    [Fact]
    public void AnUnknownFamilyFailsValidationNamingItAndTheKnownOnes()
    {
        var result = new TrainingOptionsValidator().Validate(null, new TrainingOptions { Algorithms = "LightGbm,XGBoost" });

        Assert.True(result.Failed);
        Assert.Equal(
            "Training:Algorithms names unknown families XGBoost; known: FastForest, FastTree, LbfgsLogisticRegression, LightGbm, SdcaLogisticRegression.",
            result.FailureMessage);
        Assert.Equal(ValidateOptionsResult.Success, new TrainingOptionsValidator().Validate(null, new TrainingOptions { Algorithms = "LightGbm" }));
    }
}
