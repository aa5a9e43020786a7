using System.Collections.Frozen;
using Diabetes.Core.Cleaning;

namespace Diabetes.Core.Encounters;

/// <summary>
/// The values each field of an encounter may take, as the dataset defines them: the categories that occur in
/// <c>diabetic_data.csv</c>, the codes of <c>IDs_mapping.csv</c> with their descriptions, and the range of each count.
/// Prediction requests are checked against it (a value the model has never seen is refused, not guessed at), and the
/// web form offers it.
/// </summary>
public static class EncounterDomain
{
    public static readonly IReadOnlyList<string> Races = ["Caucasian", "AfricanAmerican", "Hispanic", "Asian", "Other"];

    public static readonly IReadOnlyList<string> Genders = [.. EncounterCleaner.GenderValues, EncounterCleaner.UnknownGender];

    public static readonly IReadOnlyList<string> AgeBrackets =
        ["[0-10)", "[10-20)", "[20-30)", "[30-40)", "[40-50)", "[50-60)", "[60-70)", "[70-80)", "[80-90)", "[90-100)"];

    /// <summary>Weight in pounds; 97 % of the dataset leaves it unknown, and cleaning drops it.</summary>
    public static readonly IReadOnlyList<string> WeightBrackets =
        ["[0-25)", "[25-50)", "[50-75)", "[75-100)", "[100-125)", "[125-150)", "[150-175)", "[175-200)", ">200"];

    public static readonly IReadOnlyList<string> PayerCodes =
    [
        "BC", "CH", "CM", "CP", "DM", "FR", "HM", "MC", "MD",
        "MP", "OG", "OT", "PO", "SI", "SP", "UN", "WC",
    ];

    public static readonly IReadOnlyList<string> MedicalSpecialties =
    [
        "AllergyandImmunology", "Anesthesiology", "Anesthesiology-Pediatric", "Cardiology",
        "Cardiology-Pediatric", "DCPTEAM", "Dentistry", "Dermatology",
        "Emergency/Trauma", "Endocrinology", "Endocrinology-Metabolism", "Family/GeneralPractice",
        "Gastroenterology", "Gynecology", "Hematology", "Hematology/Oncology",
        "Hospitalist", "InfectiousDiseases", "InternalMedicine", "Nephrology",
        "Neurology", "Neurophysiology", "Obsterics&Gynecology-GynecologicOnco", "Obstetrics",
        "ObstetricsandGynecology", "Oncology", "Ophthalmology", "Orthopedics",
        "Orthopedics-Reconstructive", "Osteopath", "Otolaryngology", "OutreachServices",
        "Pathology", "Pediatrics", "Pediatrics-AllergyandImmunology", "Pediatrics-CriticalCare",
        "Pediatrics-EmergencyMedicine", "Pediatrics-Endocrinology", "Pediatrics-Hematology-Oncology", "Pediatrics-InfectiousDiseases",
        "Pediatrics-Neurology", "Pediatrics-Pulmonology", "Perinatology", "PhysicalMedicineandRehabilitation",
        "PhysicianNotFound", "Podiatry", "Proctology", "Psychiatry",
        "Psychiatry-Addictive", "Psychiatry-Child/Adolescent", "Psychology", "Pulmonology",
        "Radiologist", "Radiology", "Resident", "Rheumatology",
        "Speech", "SportsMedicine", "Surgeon", "Surgery-Cardiovascular",
        "Surgery-Cardiovascular/Thoracic", "Surgery-Colon&Rectal", "Surgery-General", "Surgery-Maxillofacial",
        "Surgery-Neuro", "Surgery-Pediatric", "Surgery-Plastic", "Surgery-PlasticwithinHeadandNeck",
        "Surgery-Thoracic", "Surgery-Vascular", "SurgicalSpecialty", "Urology",
    ];

    /// <summary><c>admission_type_id</c> codes and their descriptions (<c>IDs_mapping.csv</c>).</summary>
    public static readonly IReadOnlyDictionary<int, string> AdmissionTypes = new Dictionary<int, string>
    {
        [1] = "Emergency",
        [2] = "Urgent",
        [3] = "Elective",
        [4] = "Newborn",
        [5] = "Not Available",
        [6] = "NULL",
        [7] = "Trauma Center",
        [8] = "Not Mapped",
    };

    /// <summary><c>discharge_disposition_id</c> codes and their descriptions (<c>IDs_mapping.csv</c>).</summary>
    public static readonly IReadOnlyDictionary<int, string> DischargeDispositions = new Dictionary<int, string>
    {
        [1] = "Discharged to home",
        [2] = "Discharged/transferred to another short term hospital",
        [3] = "Discharged/transferred to SNF",
        [4] = "Discharged/transferred to ICF",
        [5] = "Discharged/transferred to another type of inpatient care institution",
        [6] = "Discharged/transferred to home with home health service",
        [7] = "Left AMA",
        [8] = "Discharged/transferred to home under care of Home IV provider",
        [9] = "Admitted as an inpatient to this hospital",
        [10] = "Neonate discharged to another hospital for neonatal aftercare",
        [11] = "Expired",
        [12] = "Still patient or expected to return for outpatient services",
        [13] = "Hospice / home",
        [14] = "Hospice / medical facility",
        [15] = "Discharged/transferred within this institution to Medicare approved swing bed",
        [16] = "Discharged/transferred/referred another institution for outpatient services",
        [17] = "Discharged/transferred/referred to this institution for outpatient services",
        [18] = "NULL",
        [19] = "Expired at home. Medicaid only, hospice.",
        [20] = "Expired in a medical facility. Medicaid only, hospice.",
        [21] = "Expired, place unknown. Medicaid only, hospice.",
        [22] = "Discharged/transferred to another rehab fac including rehab units of a hospital .",
        [23] = "Discharged/transferred to a long term care hospital.",
        [24] = "Discharged/transferred to a nursing facility certified under Medicaid but not certified under Medicare.",
        [25] = "Not Mapped",
        [26] = "Unknown/Invalid",
        [27] = "Discharged/transferred to a federal health care facility.",
        [28] = "Discharged/transferred/referred to a psychiatric hospital of psychiatric distinct part unit of a hospital",
        [29] = "Discharged/transferred to a Critical Access Hospital (CAH).",
        [30] = "Discharged/transferred to another Type of Health Care Institution not Defined Elsewhere",
    };

    /// <summary><c>admission_source_id</c> codes and their descriptions (<c>IDs_mapping.csv</c>).</summary>
    public static readonly IReadOnlyDictionary<int, string> AdmissionSources = new Dictionary<int, string>
    {
        [1] = "Physician Referral",
        [2] = "Clinic Referral",
        [3] = "HMO Referral",
        [4] = "Transfer from a hospital",
        [5] = "Transfer from a Skilled Nursing Facility (SNF)",
        [6] = "Transfer from another health care facility",
        [7] = "Emergency Room",
        [8] = "Court/Law Enforcement",
        [9] = "Not Available",
        [10] = "Transfer from critial access hospital",
        [11] = "Normal Delivery",
        [12] = "Premature Delivery",
        [13] = "Sick Baby",
        [14] = "Extramural Birth",
        [15] = "Not Available",
        [17] = "NULL",
        [18] = "Transfer From Another Home Health Agency",
        [19] = "Readmission to Same Home Health Agency",
        [20] = "Not Mapped",
        [21] = "Unknown/Invalid",
        [22] = "Transfer from hospital inpt/same fac reslt in a sep claim",
        [23] = "Born inside this hospital",
        [24] = "Born outside this hospital",
        [25] = "Transfer from Ambulatory Surgery Center",
        [26] = "Transfer from Hospice",
    };

    /// <summary>
    /// The whole numbers a count may take: from 0 (1 for the length of stay and the number of diagnoses, which the
    /// dataset's inclusion rules make at least 1) to the largest the dataset holds. Beyond that the model has seen nothing.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (int Min, int Max)> CountRanges = new Dictionary<string, (int, int)>
    {
        ["time_in_hospital"] = (1, 14),
        ["num_lab_procedures"] = (0, 132),
        ["num_procedures"] = (0, 6),
        ["num_medications"] = (0, 81),
        ["number_outpatient"] = (0, 42),
        ["number_emergency"] = (0, 76),
        ["number_inpatient"] = (0, 21),
        ["number_diagnoses"] = (1, 16),
    };

    /// <summary>
    /// The fields a caller may leave unknown (absent, <c>null</c> or the dataset's <c>?</c>): those the dataset itself
    /// leaves unknown, and the two lab results, whose absence means "not measured".
    /// </summary>
    public static readonly FrozenSet<string> MayBeUnknown = FrozenSet.Create(StringComparer.Ordinal,
        "race", "weight", "payer_code", "medical_specialty", "diag_1", "diag_2", "diag_3", "max_glu_serum", "A1Cresult");

    private static readonly FrozenDictionary<string, IReadOnlyList<string>> CategoriesByField = BuildCategories();

    private static readonly FrozenDictionary<string, IReadOnlyDictionary<int, string>> CodesByField =
        new Dictionary<string, IReadOnlyDictionary<int, string>>
        {
            ["admission_type_id"] = AdmissionTypes,
            ["discharge_disposition_id"] = DischargeDispositions,
            ["admission_source_id"] = AdmissionSources,
        }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The values a categorical field may take; <c>null</c> for counts, codes and ICD-9 diagnoses.</summary>
    public static IReadOnlyList<string>? Categories(string field) => CategoriesByField.GetValueOrDefault(field);

    /// <summary>The codes (with descriptions) an <c>*_id</c> field may take; <c>null</c> for any other field.</summary>
    public static IReadOnlyDictionary<int, string>? Codes(string field) => CodesByField.GetValueOrDefault(field);

    private static FrozenDictionary<string, IReadOnlyList<string>> BuildCategories()
    {
        var categories = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
        {
            ["race"] = Races,
            ["gender"] = Genders,
            ["age"] = AgeBrackets,
            ["weight"] = WeightBrackets,
            ["payer_code"] = PayerCodes,
            ["medical_specialty"] = MedicalSpecialties,
            ["max_glu_serum"] = EncounterCleaner.MaxGluSerumValues,
            ["A1Cresult"] = EncounterCleaner.A1CResultValues,
            ["change"] = EncounterCleaner.ChangeValues,
            ["diabetesMed"] = EncounterCleaner.DiabetesMedValues,
        };
        foreach (var medication in EncounterSchema.MedicationNames)
        {
            categories[medication] = EncounterCleaner.MedicationValues;
        }

        return categories.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
