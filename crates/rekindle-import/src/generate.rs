//! Synthetic CRM exports for benchmarks and tests.

use std::io::{self, Write};

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Counts of what `write_synthetic_csv` wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticSummary {
    /// Data rows written, header excluded.
    pub rows: u64,
    /// Rows an import must reject: an invalid email, or neither email nor phone.
    pub invalid_rows: u64,
    /// Valid rows whose email repeats an earlier row's email in upper case.
    pub duplicate_rows: u64,
}

const HEADER: [&str; 13] = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Company Name",
    "Job Title",
    "Industry",
    "Lead Status",
    "Last Activity Date",
    "Create Date",
    "Country",
    "Notes",
];

/// Display name and the ASCII form used in email addresses.
const FIRST_NAMES: [(&str, &str); 16] = [
    ("Maya", "maya"),
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("Tom", "tom"),
    ("Priya", "priya"),
    ("Łukasz", "lukasz"),
    ("Aiko", "aiko"),
    ("Daniel", "daniel"),
    ("Sarah", "sarah"),
    ("Jörg", "joerg"),
    ("Claire", "claire"),
    ("Olivia", "olivia"),
    ("Noah", "noah"),
    ("Emma", "emma"),
    ("Liam", "liam"),
    ("Ana", "ana"),
];

const LAST_NAMES: [(&str, &str); 16] = [
    ("Okafor", "okafor"),
    ("Álvarez", "alvarez"),
    ("Lindqvist", "lindqvist"),
    ("Becker", "becker"),
    ("Raman", "raman"),
    ("Wiśniewski", "wisniewski"),
    ("Yamada", "yamada"),
    ("O'Brien", "obrien"),
    ("Nguyen", "nguyen"),
    ("Müller", "mueller"),
    ("Dubois", "dubois"),
    ("Grant", "grant"),
    ("Fischer", "fischer"),
    ("Costa", "costa"),
    ("Walsh", "walsh"),
    ("García", "garcia"),
];

/// Company name and its email domain label (under `.example`, which never
/// resolves).
const COMPANIES: [(&str, &str); 10] = [
    ("Brightlane Analytics", "brightlane"),
    ("Verdemar Logística, S.L.", "verdemar"),
    ("Nordpeak AB", "nordpeak"),
    ("Fernweh Reisen GmbH", "fernweh-reisen"),
    ("Kestrel Health", "kestrelhealth"),
    ("Orzeł Software sp. z o.o.", "orzel"),
    ("さくらロボティクス株式会社", "sakura-robotics"),
    ("Harbourline Freight, Ltd.", "harbourline"),
    ("LumenPay", "lumenpay"),
    ("Tidewater Labs", "tidewater"),
];

const TITLES: [&str; 8] = [
    "Head of Revenue Operations",
    "Director de Operaciones",
    "CEO",
    "Geschäftsführer",
    "VP Engineering",
    "CTO",
    "営業部長",
    "Procurement Lead",
];

const INDUSTRIES: [&str; 5] = ["Software", "Logistics", "Healthcare", "Travel", "Fintech"];

const STATUSES: [&str; 6] = [
    "New",
    "Open",
    "Attempted to contact",
    "Bad timing",
    "Unqualified",
    "Closed lost",
];

const COUNTRIES: [&str; 6] = [
    "United Kingdom",
    "Spain",
    "Germany",
    "France",
    "Japan",
    "Poland",
];

const NOTES: [&str; 6] = [
    "Asked for pricing in March, went quiet after the demo",
    "Interested in route planning; \"call me after Q1\"",
    "Met at SaaStr Europa.\nWants a case study from logistics.",
    "Budget frozen until next fiscal year",
    "Intéressée; budget validé en septembre",
    "",
];

/// International prefixes and the number of random digits after each, shaped
/// like numbers that the phone parser accepts.
const PHONE_FORMATS: [(&str, u32); 5] = [
    ("+44 20 7946 0", 3),
    ("+49 30 ", 8),
    ("+33 1 ", 8),
    ("+34 912 ", 6),
    ("+1 415 555 ", 4),
];

/// Out of 1,000 rows: 5 have an invalid email, 3 have neither email nor phone,
/// and 12 repeat an earlier email.
const INVALID_EMAIL_PER_MILLE: u64 = 5;
const NO_CONTACT_PER_MILLE: u64 = 8;
const DUPLICATE_PER_MILLE: u64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowKind {
    Normal,
    InvalidEmail,
    NoContact,
    Duplicate,
}

/// Writes a HubSpot-shaped CSV export of `rows` data rows after a header.
/// The output depends only on `rows` and `seed`: the same arguments give the
/// same bytes. Rows have accents, other scripts, quoted commas and quotes,
/// line breaks in notes, phones with and without a country code, and about
/// 0.8 % invalid and 1.2 % duplicate rows, counted in the summary.
pub fn write_synthetic_csv<W: Write>(
    writer: W,
    rows: u64,
    seed: u64,
) -> io::Result<SyntheticSummary> {
    let mut csv = csv::Writer::from_writer(writer);
    csv.write_record(HEADER)?;

    let mut summary = SyntheticSummary {
        rows,
        invalid_rows: 0,
        duplicate_rows: 0,
    };
    for index in 1..=rows {
        let mut rng = row_rng(seed, index);
        let kind = row_kind(seed, index);
        match kind {
            RowKind::InvalidEmail | RowKind::NoContact => summary.invalid_rows += 1,
            RowKind::Duplicate => summary.duplicate_rows += 1,
            RowKind::Normal => {}
        }
        csv.write_record(row_fields(seed, index, kind, &mut rng))?;
    }

    csv.flush()?;
    Ok(summary)
}

/// Creates the random stream of one row, so that a row's content does not
/// depend on the rows before it.
fn row_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

fn row_kind(seed: u64, index: u64) -> RowKind {
    // Word position 0 of the row's stream decides the kind; the row's own
    // draws start after it.
    let roll = row_rng(seed, index).next_u64() % 1000;
    if roll < INVALID_EMAIL_PER_MILLE {
        RowKind::InvalidEmail
    } else if roll < NO_CONTACT_PER_MILLE {
        RowKind::NoContact
    } else if roll < DUPLICATE_PER_MILLE && duplicate_target(seed, index).is_some() {
        RowKind::Duplicate
    } else {
        RowKind::Normal
    }
}

/// Finds the earlier normal row that a duplicate row copies: the nearest
/// normal row at or before a position drawn from the row's stream.
fn duplicate_target(seed: u64, index: u64) -> Option<u64> {
    if index < 2 {
        return None;
    }
    let mut rng = row_rng(seed, index);
    rng.set_word_pos(2);
    let start = rng.random_range(1..index);
    (1..=start)
        .rev()
        .take(64)
        .find(|&candidate| row_kind_without_duplicates(seed, candidate) == RowKind::Normal)
}

/// Returns the kind of a row, counting would-be duplicates as not normal, so
/// that a duplicate never copies another duplicate.
fn row_kind_without_duplicates(seed: u64, index: u64) -> RowKind {
    let roll = row_rng(seed, index).next_u64() % 1000;
    match roll {
        r if r < INVALID_EMAIL_PER_MILLE => RowKind::InvalidEmail,
        r if r < NO_CONTACT_PER_MILLE => RowKind::NoContact,
        r if r < DUPLICATE_PER_MILLE => RowKind::Duplicate,
        _ => RowKind::Normal,
    }
}

fn row_fields(seed: u64, index: u64, kind: RowKind, rng: &mut ChaCha8Rng) -> Vec<String> {
    // Skip the words used for the kind and the duplicate target.
    rng.set_word_pos(4);
    let identity = match kind {
        RowKind::Duplicate => duplicate_target(seed, index).unwrap_or(index),
        _ => index,
    };
    let (first, first_ascii) = FIRST_NAMES[(identity % 16) as usize];
    let (last, last_ascii) = LAST_NAMES[((identity / 16) % 16) as usize];
    let (company, domain) = COMPANIES[((identity / 256) % 10) as usize];

    let email = format!("{first_ascii}.{last_ascii}.{identity}@{domain}.example");
    let email = match kind {
        RowKind::Normal => email,
        RowKind::Duplicate => email.to_uppercase(),
        RowKind::InvalidEmail => email.replacen('@', "@@", 1),
        RowKind::NoContact => String::new(),
    };
    let phone = match kind {
        RowKind::NoContact => String::new(),
        _ => random_phone(rng),
    };

    vec![
        (100_000 + index).to_string(),
        first.to_owned(),
        last.to_owned(),
        email,
        phone,
        company.to_owned(),
        (*pick(rng, &TITLES)).to_owned(),
        (*pick(rng, &INDUSTRIES)).to_owned(),
        (*pick(rng, &STATUSES)).to_owned(),
        random_date(rng, 2025),
        random_date(rng, 2024),
        (*pick(rng, &COUNTRIES)).to_owned(),
        (*pick(rng, &NOTES)).to_owned(),
    ]
}

/// Draws a phone number: 70 % international, 5 % national without a country
/// code (a warning on import), 25 % empty.
fn random_phone(rng: &mut ChaCha8Rng) -> String {
    let roll = rng.random_range(0..100);
    if roll < 25 {
        return String::new();
    }
    if roll < 30 {
        return format!("030 {}", random_digits(rng, 7));
    }
    let (prefix, digits) = *pick(rng, &PHONE_FORMATS);
    format!("{prefix}{}", random_digits(rng, digits))
}

fn random_digits(rng: &mut ChaCha8Rng, count: u32) -> String {
    let upper = 10u64.pow(count);
    format!(
        "{:0width$}",
        rng.random_range(0..upper),
        width = count as usize
    )
}

fn random_date(rng: &mut ChaCha8Rng, year: i32) -> String {
    let month = rng.random_range(1..=12);
    let day = rng.random_range(1..=28);
    let hour = rng.random_range(0..24);
    let minute = rng.random_range(0..60);
    format!("{year}-{month:02}-{day:02} {hour:02}:{minute:02}")
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}
