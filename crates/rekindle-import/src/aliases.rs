//! Column names of common exports, normalised, and the lead field each fills.
//!
//! Names are compared after `headers::normalize_header`: lower case, accents
//! folded, spaces and punctuation removed, so "E-Mail" is `email` and
//! "Correo electrónico" is `correoelectronico`. The table covers the usual
//! export columns of HubSpot, Salesforce, Pipedrive and Apollo, plain
//! spreadsheet names, and German, French and Spanish spreadsheet headers.
//!
//! NOTE: the CRM names were written from known export layouts, not checked
//! against each CRM's current export. Add a name here when a real file
//! differs. Until then, the mapping override covers it.

use crate::LeadField::{self, *};

/// One known column name. When several columns of a file map to the same
/// field, the non-empty one with the lowest `priority` fills it.
pub(crate) struct Alias {
    pub(crate) name: &'static str,
    pub(crate) field: LeadField,
    pub(crate) priority: u8,
}

const fn alias(name: &'static str, field: LeadField, priority: u8) -> Alias {
    Alias {
        name,
        field,
        priority,
    }
}

pub(crate) const ALIASES: &[Alias] = &[
    // Identifiers in the source CRM.
    alias("recordid", ExternalId, 0),
    alias("leadid", ExternalId, 0),
    alias("contactid", ExternalId, 0),
    alias("personid", ExternalId, 0),
    alias("apollocontactid", ExternalId, 0),
    alias("externalid", ExternalId, 0),
    alias("crmid", ExternalId, 0),
    alias("id", ExternalId, 1),
    // Email.
    alias("email", Email, 0),
    alias("emailaddress", Email, 0),
    alias("emailadresse", Email, 0),
    alias("primaryemail", Email, 0),
    alias("workemail", Email, 0),
    alias("emailwork", Email, 0),
    alias("businessemail", Email, 0),
    alias("courriel", Email, 0),
    alias("adresseemail", Email, 0),
    alias("adressecourriel", Email, 0),
    alias("adresseelectronique", Email, 0),
    alias("correoelectronico", Email, 0),
    alias("correo", Email, 0),
    alias("mail", Email, 1),
    alias("personalemail", Email, 1),
    alias("emailhome", Email, 1),
    alias("emailother", Email, 2),
    // Phone: direct and work lines first, then mobiles, then home and others.
    alias("phonenumber", Phone, 0),
    alias("phone", Phone, 0),
    alias("tel", Phone, 0),
    alias("telephone", Phone, 0),
    alias("telefon", Phone, 0),
    alias("telefonnummer", Phone, 0),
    alias("telefono", Phone, 0),
    alias("numerodetelephone", Phone, 0),
    alias("workphone", Phone, 0),
    alias("phonework", Phone, 0),
    alias("workdirectphone", Phone, 0),
    alias("directphone", Phone, 0),
    alias("businessphone", Phone, 0),
    alias("firstphone", Phone, 0),
    alias("corporatephone", Phone, 1),
    alias("mobile", Phone, 2),
    alias("mobilephone", Phone, 2),
    alias("mobilephonenumber", Phone, 2),
    alias("phonemobile", Phone, 2),
    alias("cellphone", Phone, 2),
    alias("mobil", Phone, 2),
    alias("mobiltelefon", Phone, 2),
    alias("handy", Phone, 2),
    alias("handynummer", Phone, 2),
    alias("portable", Phone, 2),
    alias("telephoneportable", Phone, 2),
    alias("movil", Phone, 2),
    alias("telefonomovil", Phone, 2),
    alias("celular", Phone, 2),
    alias("homephone", Phone, 3),
    alias("phonehome", Phone, 3),
    alias("otherphone", Phone, 4),
    alias("phoneother", Phone, 4),
    // Names.
    alias("firstname", FirstName, 0),
    alias("givenname", FirstName, 0),
    alias("forename", FirstName, 0),
    alias("vorname", FirstName, 0),
    alias("prenom", FirstName, 0),
    alias("nombre", FirstName, 0),
    alias("lastname", LastName, 0),
    alias("surname", LastName, 0),
    alias("familyname", LastName, 0),
    alias("nachname", LastName, 0),
    alias("familienname", LastName, 0),
    alias("nom", LastName, 0),
    alias("nomdefamille", LastName, 0),
    alias("apellido", LastName, 0),
    alias("apellidos", LastName, 0),
    alias("name", FullName, 0),
    alias("fullname", FullName, 0),
    alias("contactname", FullName, 0),
    alias("personname", FullName, 0),
    alias("displayname", FullName, 1),
    alias("vollstandigername", FullName, 0),
    alias("nomcomplet", FullName, 0),
    alias("nombrecompleto", FullName, 0),
    // Company.
    alias("company", Company, 0),
    alias("companyname", Company, 0),
    alias("companyaccount", Company, 0),
    alias("accountname", Company, 0),
    alias("organization", Company, 0),
    alias("organisation", Company, 0),
    alias("organizationname", Company, 0),
    alias("organisationname", Company, 0),
    alias("account", Company, 1),
    alias("firma", Company, 0),
    alias("firmenname", Company, 0),
    alias("unternehmen", Company, 0),
    alias("societe", Company, 0),
    alias("entreprise", Company, 0),
    alias("empresa", Company, 0),
    alias("compania", Company, 0),
    // Job title.
    alias("jobtitle", JobTitle, 0),
    alias("title", JobTitle, 0),
    alias("position", JobTitle, 0),
    alias("jobrole", JobTitle, 1),
    alias("role", JobTitle, 1),
    alias("berufsbezeichnung", JobTitle, 0),
    alias("funktion", JobTitle, 1),
    alias("poste", JobTitle, 0),
    alias("fonction", JobTitle, 0),
    alias("cargo", JobTitle, 0),
    alias("puesto", JobTitle, 0),
    // Industry.
    alias("industry", Industry, 0),
    alias("branche", Industry, 0),
    alias("secteur", Industry, 0),
    alias("secteurdactivite", Industry, 0),
    alias("sector", Industry, 0),
    alias("industria", Industry, 0),
    // Website.
    alias("website", Website, 0),
    alias("websiteurl", Website, 0),
    alias("companywebsite", Website, 0),
    alias("webseite", Website, 0),
    alias("siteweb", Website, 0),
    alias("siteinternet", Website, 0),
    alias("sitioweb", Website, 0),
    alias("paginaweb", Website, 0),
    alias("homepage", Website, 1),
    alias("url", Website, 1),
    // City and country: the person's own first, the company's as a fallback.
    alias("city", City, 0),
    alias("mailingcity", City, 0),
    alias("stadt", City, 0),
    alias("ort", City, 0),
    alias("ville", City, 0),
    alias("ciudad", City, 0),
    alias("companycity", City, 2),
    alias("billingcity", City, 2),
    alias("country", Country, 0),
    alias("countryregion", Country, 0),
    alias("mailingcountry", Country, 0),
    alias("land", Country, 0),
    alias("pays", Country, 0),
    alias("pais", Country, 0),
    alias("companycountry", Country, 2),
    alias("billingcountry", Country, 2),
    // Time zone.
    alias("timezone", TimeZone, 0),
    alias("zeitzone", TimeZone, 0),
    alias("fuseauhoraire", TimeZone, 0),
    alias("zonahoraria", TimeZone, 0),
    alias("iptimezone", TimeZone, 1),
    alias("tz", TimeZone, 1),
    // Notes.
    alias("notes", Notes, 0),
    alias("note", Notes, 0),
    alias("notizen", Notes, 0),
    alias("notiz", Notes, 0),
    alias("bemerkungen", Notes, 0),
    alias("bemerkung", Notes, 0),
    alias("remarques", Notes, 0),
    alias("remarque", Notes, 0),
    alias("notas", Notes, 0),
    alias("nota", Notes, 0),
    alias("description", Notes, 1),
    alias("comments", Notes, 1),
    alias("comment", Notes, 1),
    alias("kommentar", Notes, 1),
    alias("kommentare", Notes, 1),
    alias("commentaires", Notes, 1),
    alias("commentaire", Notes, 1),
    alias("comentarios", Notes, 1),
    alias("observaciones", Notes, 1),
    // CRM status: the lead status is more specific than the lifecycle stage.
    alias("leadstatus", CrmStatus, 0),
    alias("status", CrmStatus, 1),
    alias("contactstatus", CrmStatus, 1),
    alias("statut", CrmStatus, 1),
    alias("estado", CrmStatus, 1),
    alias("lifecyclestage", CrmStatus, 2),
    alias("stage", CrmStatus, 2),
    // Last contact.
    alias("lastactivitydate", LastContactedAt, 0),
    alias("lastactivity", LastContactedAt, 0),
    alias("lastcontacted", LastContactedAt, 0),
    alias("lastcontacteddate", LastContactedAt, 0),
    alias("lastcontact", LastContactedAt, 0),
    alias("letzterkontakt", LastContactedAt, 0),
    alias("letzteaktivitat", LastContactedAt, 0),
    alias("derniercontact", LastContactedAt, 0),
    alias("dateduderniercontact", LastContactedAt, 0),
    alias("ultimocontacto", LastContactedAt, 0),
    alias("ultimaactividad", LastContactedAt, 0),
    alias("lastengagementdate", LastContactedAt, 1),
    // Creation in the CRM.
    alias("createdate", CrmCreatedAt, 0),
    alias("createddate", CrmCreatedAt, 0),
    alias("createdat", CrmCreatedAt, 0),
    alias("datecreated", CrmCreatedAt, 0),
    alias("personcreated", CrmCreatedAt, 0),
    alias("erstelltam", CrmCreatedAt, 0),
    alias("angelegtam", CrmCreatedAt, 0),
    alias("datedecreation", CrmCreatedAt, 0),
    alias("fechadecreacion", CrmCreatedAt, 0),
    alias("created", CrmCreatedAt, 1),
    // Engagement counts.
    alias("numberofsalesactivities", EngagementCount, 0),
    alias("numberoftimescontacted", EngagementCount, 0),
    alias("timescontacted", EngagementCount, 0),
    alias("emailsopened", EngagementCount, 0),
    alias("emailopens", EngagementCount, 0),
    alias("engagementcount", EngagementCount, 0),
    alias("activitycount", EngagementCount, 0),
    alias("numberofactivities", EngagementCount, 0),
    alias("engagements", EngagementCount, 1),
];

/// Prefixes that CRMs put before a field name ("Person - Email" in Pipedrive).
/// A column that matches no alias is tried again without its prefix.
pub(crate) const FIELD_PREFIXES: &[&str] = &["person", "contact", "lead"];

/// Words that mark a column of trigger events, and the signal kind each gives.
/// A normalised header that contains the word becomes a signal column.
pub(crate) const SIGNAL_WORDS: &[(&str, &str)] = &[
    ("funding", "funding"),
    ("finanzierung", "funding"),
    ("leveedefonds", "funding"),
    ("financiacion", "funding"),
    ("hiring", "hiring"),
    ("recrutement", "hiring"),
    ("contratacion", "hiring"),
    ("jobchange", "job_change"),
    ("rolechange", "job_change"),
    ("newjob", "job_change"),
    ("recentnews", "news"),
    ("news", "news"),
    ("intent", "intent"),
    ("trigger", "trigger"),
    ("signal", "trigger"),
];

/// Finds the alias for a normalised header.
pub(crate) fn find_alias(normalized: &str) -> Option<&'static Alias> {
    ALIASES.iter().find(|alias| alias.name == normalized)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::headers::normalize_header;

    #[test]
    fn alias_names_are_normalised() {
        for alias in ALIASES {
            assert_eq!(normalize_header(alias.name), alias.name);
        }
    }

    #[test]
    fn alias_names_are_unique() {
        let mut seen = HashSet::new();
        for alias in ALIASES {
            assert!(seen.insert(alias.name), "{} listed twice", alias.name);
        }
    }
}
