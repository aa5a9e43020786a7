using Diabetes.Core.Cleaning;

namespace Diabetes.Core.UnitTests;

public class Icd9Tests
{
    [Theory]
    [InlineData("428", Icd9.Circulatory)]
    [InlineData("390", Icd9.Circulatory)]
    [InlineData("459.9", Icd9.Circulatory)]
    [InlineData("785", Icd9.Circulatory)]
    [InlineData("486", Icd9.Respiratory)]
    [InlineData("786", Icd9.Respiratory)]
    [InlineData("577", Icd9.Digestive)]
    [InlineData("787", Icd9.Digestive)]
    [InlineData("250", Icd9.Diabetes)]
    [InlineData("250.83", Icd9.Diabetes)]
    [InlineData("820", Icd9.Injury)]
    [InlineData("999", Icd9.Injury)]
    [InlineData("715", Icd9.Musculoskeletal)]
    [InlineData("599", Icd9.Genitourinary)]
    [InlineData("788", Icd9.Genitourinary)]
    [InlineData("174", Icd9.Neoplasms)]
    [InlineData("239", Icd9.Neoplasms)]
    [InlineData("276", Icd9.Other)]
    [InlineData("8", Icd9.Other)]
    [InlineData("V57", Icd9.Other)]
    [InlineData("E909", Icd9.Other)]
    [InlineData("251", Icd9.Other)]
    [InlineData(null, Icd9.Missing)]
    public void GroupsCodesAsStrackEtAl(string? code, string group) => Assert.Equal(group, Icd9.Group(code));

    [Theory]
    [InlineData("428", true)]
    [InlineData("250.83", true)]
    [InlineData("V45.81", true)]
    [InlineData("E880.9", true)]
    [InlineData("4280", false)]
    [InlineData("abc", false)]
    [InlineData("250.", false)]
    [InlineData("", false)]
    [InlineData("\u0664\u0662\u0668", false)] // 428 in Arabic-Indic digits: a digit, but not one the dataset or decimal.Parse reads
    [InlineData("\uff14\uff12\uff18", false)] // 428 in full-width digits
    public void RecognisesValidCodes(string code, bool valid) => Assert.Equal(valid, Icd9.IsValidCode(code));
}
