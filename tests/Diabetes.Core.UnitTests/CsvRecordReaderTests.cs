using Diabetes.Core.Csv;

namespace Diabetes.Core.UnitTests;

public class CsvRecordReaderTests
{
    private static List<CsvRecord> ReadAll(string text) => new CsvRecordReader(new StringReader(text)).ReadAll().ToList();

    [Fact]
    public void ReadsQuotedFieldsWithSeparatorsQuotesAndLineBreaks()
    {
        // Arrange
        const string text = "a,b,c\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",z\n";

        // Act
        var records = ReadAll(text);

        // Assert
        Assert.Equal(3, records.Count);
        Assert.Equal(["1", "x, y", "say \"hi\""], records[1].Fields);
        Assert.Equal(["2", "two\nlines", "z"], records[2].Fields);
        Assert.All(records, r => Assert.Null(r.Problem));
    }

    [Fact]
    public void NumbersRecordsByThePhysicalLineTheyStartOn()
    {
        var records = ReadAll("h1,h2\n\"multi\nline\",1\nnext,2\r\nlast,3");

        Assert.Equal([1L, 2L, 4L, 5L], records.Select(r => r.LineNumber));
        Assert.Equal(["last", "3"], records[3].Fields);
    }

    [Fact]
    public void ReportsAnUnterminatedQuoteAndKeepsWhatItRead()
    {
        var records = ReadAll("a,b\n1,\"never closed\n2,3\n");

        Assert.Equal(2, records.Count);
        Assert.Equal("unterminated quoted field", records[1].Problem);
        Assert.Equal("never closed\n2,3\n", records[1].Fields[1]);
    }

    [Fact]
    public void KeepsAStrayQuoteInsideAFieldOnItsOwnLine()
    {
        // A quote opens a quoted field only at the field's start: a reader that toggles on any quote (Sep does) would
        // read every line up to the next quote into this one record, and those lines would be lost with it.
        var records = ReadAll("a,b,c\n1,x\"y,z\n2,ok,ok\n3,\"q\",ok\n");

        Assert.Equal([1L, 2L, 3L, 4L], records.Select(r => r.LineNumber));
        Assert.Equal(["1", "x\"y", "z"], records[1].Fields);
        Assert.Equal(["2", "ok", "ok"], records[2].Fields);
        Assert.Equal(["3", "q", "ok"], records[3].Fields);
        Assert.All(records, r => Assert.Null(r.Problem));
    }

    [Fact]
    public void KeepsEmptyFieldsAndReadsAnEmptyLineAsOneEmptyField()
    {
        var records = ReadAll("a,,c\n\n,\n");

        Assert.Equal(["a", "", "c"], records[0].Fields);
        Assert.Equal([""], records[1].Fields);
        Assert.Equal(["", ""], records[2].Fields);
    }

    [Fact]
    public void ReadsFieldsLongerThanItsBuffer()
    {
        var longField = new string('x', 200_000);

        var records = ReadAll($"{longField},end\n\"{longField}\",end\n");

        Assert.All(records, r => Assert.Equal([longField, "end"], r.Fields));
    }

    [Fact]
    public void HandsEveryFieldToTheStringFactory()
    {
        var seen = new List<string>();
        var reader = new CsvRecordReader(new StringReader("ab,cd\n\"q\",x"), span =>
        {
            seen.Add(span.ToString());
            return span.ToString().ToUpperInvariant();
        });

        var records = reader.ReadAll().ToList();

        Assert.Equal(["ab", "cd", "q", "x"], seen);
        Assert.Equal(["Q", "X"], records[1].Fields);
    }
}
