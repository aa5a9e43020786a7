using Microsoft.ML;
using Microsoft.ML.Data;

namespace Diabetes.Core.Modeling;

/// <summary>
/// The trainer's model split in its two stages: the featurization into the feature vector and the learner on it.
/// ML.NET's tree ensembles look a sparse vector's values up by a binary search at every split, and a dense one by
/// index, so the 1,500-tree models score several times faster when the vector is made dense between the stages.
/// </summary>
internal sealed class ModelStages
{
    private ModelStages(ITransformer featurizer, ITransformer learner, ISingleFeaturePredictionTransformer<object> predictor, SchemaDefinition denseFeatures)
    {
        Featurizer = featurizer;
        Learner = learner;
        Predictor = predictor;
        DenseFeatures = denseFeatures;
    }

    public ITransformer Featurizer { get; }

    /// <summary>The learner: its prediction transformer, or a chain of it and the calibrator that follows it (the random forests').</summary>
    public ITransformer Learner { get; }

    /// <summary>The prediction transformer of <see cref="Learner"/>, whose model turns the feature vector into the raw score.</summary>
    public ISingleFeaturePredictionTransformer<object> Predictor { get; }

    /// <summary>The column the featurization writes and the learner reads.</summary>
    public string FeatureColumn => Predictor.FeatureColumnName;

    /// <summary>How a <see cref="FeatureVector"/> binds to the learner's input column (its name and fixed size).</summary>
    public SchemaDefinition DenseFeatures { get; }

    /// <summary>
    /// The stages of a featurization-then-learner chain whose learner (alone, or in a chain of its own with its
    /// calibrator) reads a vector of known size; null for any other model (a flat chain ending in a calibrator, whose
    /// input is a score), which is run whole.
    /// </summary>
    public static ModelStages? Of(ITransformer model, DataViewSchema inputSchema)
    {
        if (model is not TransformerChain<ITransformer> chain || chain.Count() < 2)
        {
            return null;
        }

        var learner = chain.LastTransformer;
        if ((learner as ISingleFeaturePredictionTransformer<object>
             ?? (learner as IEnumerable<ITransformer>)?.FirstOrDefault() as ISingleFeaturePredictionTransformer<object>) is not { FeatureColumnName: not null } predictor)
        {
            return null;
        }

        var featurizer = new TransformerChain<ITransformer>([.. chain.SkipLast(1)]);
        if (featurizer.GetOutputSchema(inputSchema).GetColumnOrNull(predictor.FeatureColumnName) is not
            { Type: VectorDataViewType { ItemType: NumberDataViewType itemType, IsKnownSize: true } } features
            || itemType.RawType != typeof(float))
        {
            return null;
        }

        var definition = SchemaDefinition.Create(typeof(FeatureVector));
        var column = definition[nameof(FeatureVector.Features)];
        column.ColumnName = predictor.FeatureColumnName;
        column.ColumnType = features.Type;
        return new ModelStages(featurizer, learner, predictor, definition);
    }

    /// <summary>
    /// The learner's input column of <paramref name="featurized"/> as dense vectors, read as it streams, for
    /// <c>LoadFromEnumerable</c>: one vector, overwritten row after row, because that view copies a row's array into
    /// its reader's own buffer as soon as it moves to the row and keeps nothing (a vector a row would allocate the whole
    /// dense matrix, hundreds of megabytes over a job's predictions). Never collect the sequence: every element is the
    /// same vector.
    /// </summary>
    public IEnumerable<FeatureVector> Dense(IDataView featurized)
    {
        var column = featurized.Schema[FeatureColumn];
        using var cursor = featurized.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        var buffer = default(VBuffer<float>);
        var row = new FeatureVector { Features = new float[((VectorDataViewType)column.Type).Size] };
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            buffer.CopyTo(row.Features);
            yield return row;
        }
    }
}
