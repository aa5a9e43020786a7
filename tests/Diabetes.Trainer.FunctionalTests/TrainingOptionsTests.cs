using System.Globalization;
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

    [Theory]
    [InlineData("00:00:00", "00:02:00", "Training:LeaseRenewInterval must be longer than zero.")]
    [InlineData("00:00:41", "00:02:00", "Training:LeaseRenewInterval (00:00:41) must be at most a third of Training:LeaseDuration (00:02:00).")]
    public void LeaseTimingsThatCannotHoldFailValidation(string renewInterval, string duration, string message)
    {
        var options = new TrainingOptions { LeaseRenewInterval = TimeSpan.Parse(renewInterval, CultureInfo.InvariantCulture), LeaseDuration = TimeSpan.Parse(duration, CultureInfo.InvariantCulture) };

        var result = new TrainingOptionsValidator().Validate(null, options);

        Assert.Equal(message, result.FailureMessage);
        Assert.Equal(ValidateOptionsResult.Success, new TrainingOptionsValidator().Validate(null, new TrainingOptions()));
    }
}
