using Microsoft.Extensions.Options;

namespace Diabetes.Trainer.FunctionalTests;

public class PromotionOptionsTests
{
    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void AGroupDropThatIsNotAShareOfRocAucFailsValidation(double drop)
    {
        var result = new PromotionOptionsValidator().Validate(null, new PromotionOptions { MaxGroupAucDrop = drop });

        Assert.Equal($"Promotion:MaxGroupAucDrop ({drop}) must be between 0 and 1.", result.FailureMessage);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void DropsFromNoneToAllAreValidAndTheDefaultIsTwoHundredths(double drop)
    {
        Assert.Equal(ValidateOptionsResult.Success, new PromotionOptionsValidator().Validate(null, new PromotionOptions { MaxGroupAucDrop = drop }));
        Assert.Equal(0.02, new PromotionOptions().MaxGroupAucDrop);
    }
}
