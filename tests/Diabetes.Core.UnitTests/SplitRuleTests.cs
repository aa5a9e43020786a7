using Diabetes.Core.Encounters;

namespace Diabetes.Core.UnitTests;

public class SplitRuleTests
{
    [Theory]
    // Expected buckets computed independently in Python:
    // int.from_bytes(hashlib.sha256(str(p).encode()).digest()[:8], "big") % 100
    [InlineData(8222157L, 34, DatasetSplit.Train)]
    [InlineData(55629189L, 76, DatasetSplit.Validation)]
    [InlineData(86047875L, 45, DatasetSplit.Train)]
    [InlineData(1L, 13, DatasetSplit.Train)]
    public void BucketIsTheDocumentedHashModHundred(long patientNbr, int bucket, DatasetSplit split)
    {
        Assert.Equal(bucket, SplitRule.Bucket(patientNbr));
        Assert.Equal(split, SplitRule.Assign(patientNbr));
    }

    [Theory]
    [InlineData(0, DatasetSplit.Train)]
    [InlineData(69, DatasetSplit.Train)]
    [InlineData(70, DatasetSplit.Validation)]
    [InlineData(84, DatasetSplit.Validation)]
    [InlineData(85, DatasetSplit.Test)]
    [InlineData(99, DatasetSplit.Test)]
    public void BucketsBelowSeventyTrainBelowEightyFiveValidateTheRestTest(int bucket, DatasetSplit split) =>
        Assert.Equal(split, SplitRule.OfBucket(bucket));

    [Fact]
    public void SplitsTheDatasetsPatientsSeventyFifteenFifteen()
    {
        var patients = Enumerable.Range(1, 50_000).Select(i => (long)i * 7919);

        var shares = patients.GroupBy(SplitRule.Assign).ToDictionary(g => g.Key, g => g.Count() / 50_000.0);

        Assert.InRange(shares[DatasetSplit.Train], 0.69, 0.71);
        Assert.InRange(shares[DatasetSplit.Validation], 0.14, 0.16);
        Assert.InRange(shares[DatasetSplit.Test], 0.14, 0.16);
    }

    [Theory]
    [InlineData(DatasetSplit.Train, "train")]
    [InlineData(DatasetSplit.Validation, "validation")]
    [InlineData(DatasetSplit.Test, "test")]
    public void NamesRoundTrip(DatasetSplit split, string name)
    {
        Assert.Equal(name, split.ToName());
        Assert.Equal(split, SplitRule.Parse(name));
    }
}
