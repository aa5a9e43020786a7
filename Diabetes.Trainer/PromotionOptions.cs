using Microsoft.Extensions.Options;

namespace Diabetes.Trainer;

public sealed class PromotionOptions
{
    /// <summary>
    /// How far below the version holding Production a challenger's validation ROC-AUC may fall in any patient group
    /// large enough to be scored before the challenger is refused, however much better it does on average
    /// (<c>Promotion__MaxGroupAucDrop</c>).
    /// </summary>
    public double MaxGroupAucDrop { get; set; } = 0.02;
}

/// <summary>A drop that is not a share of ROC-AUC stops the trainer at start-up.</summary>
public sealed class PromotionOptionsValidator : IValidateOptions<PromotionOptions>
{
    public ValidateOptionsResult Validate(string? name, PromotionOptions options) =>
        options.MaxGroupAucDrop is >= 0 and <= 1
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Promotion:MaxGroupAucDrop ({options.MaxGroupAucDrop}) must be between 0 and 1.");
}
