use std::io::Write;

use super::*;

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn defaults_use_sqlite_in_data_dir() {
    let config = Config::load_from(None, vars(&[("REKINDLE_DATA_DIR", "/tmp/rk")])).unwrap();
    assert_eq!(
        config.database_url().expose(),
        "sqlite:///tmp/rk/rekindle.sqlite"
    );
    assert_eq!(config.outbox_dir(), PathBuf::from("/tmp/rk/outbox"));
    assert_eq!(config.worker.max_attempts, 5);
}

#[test]
fn production_requires_master_key() {
    let error = Config::load_from(None, vars(&[("REKINDLE_ENV", "production")])).unwrap_err();
    assert!(matches!(error, ConfigError::MissingSecret { .. }));
    assert!(error.to_string().contains("REKINDLE_MASTER_KEY"));
}

#[test]
fn production_rejects_short_master_key() {
    let error = Config::load_from(
        None,
        vars(&[
            ("REKINDLE_ENV", "production"),
            ("REKINDLE_MASTER_KEY", "short"),
        ]),
    )
    .unwrap_err();
    assert!(matches!(error, ConfigError::WeakSecret { length: 5, .. }));
}

#[test]
fn production_requires_https_base_url() {
    let key = "k".repeat(40);
    let error = Config::load_from(
        None,
        vars(&[
            ("REKINDLE_ENV", "production"),
            ("REKINDLE_MASTER_KEY", &key),
            ("REKINDLE_PUBLIC_BASE_URL", "http://rekindle.example.com"),
        ]),
    )
    .unwrap_err();
    assert!(matches!(error, ConfigError::InsecureUrl { .. }));

    let config = Config::load_from(
        None,
        vars(&[
            ("REKINDLE_ENV", "production"),
            ("REKINDLE_MASTER_KEY", &key),
            ("REKINDLE_PUBLIC_BASE_URL", "https://rekindle.example.com/"),
        ]),
    )
    .unwrap();
    assert_eq!(
        config.server.public_base_url,
        "https://rekindle.example.com"
    );
}

#[test]
fn secrets_are_redacted_in_debug() {
    let config = Config::load_from(
        None,
        vars(&[
            ("REKINDLE_MASTER_KEY", "super-secret-value-1234567890abcdef"),
            (
                "REKINDLE_DATABASE_URL",
                "postgres://app:hunter2@db/rekindle",
            ),
        ]),
    )
    .unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains("super-secret-value"));
    assert!(!debug.contains("hunter2"));
    assert!(debug.contains("[redacted]"));
}

#[test]
fn secret_from_file() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "file-secret-abcdefghijklmnopqrstuvwxyz").unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let config = Config::load_from(None, vars(&[("REKINDLE_MASTER_KEY_FILE", &path)])).unwrap();
    assert_eq!(
        config.master_key().expose(),
        "file-secret-abcdefghijklmnopqrstuvwxyz"
    );
}

#[test]
fn toml_file_then_environment() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "data_dir = \"/srv/rk\"\n[worker]\nbatch_size = 7\n[import]\ndefault_region = \"GB\""
    )
    .unwrap();
    let config = Config::load_from(
        Some(file.path()),
        vars(&[("REKINDLE_WORKER_BATCH_SIZE", "9")]),
    )
    .unwrap();
    assert_eq!(config.data_dir, PathBuf::from("/srv/rk"));
    assert_eq!(config.worker.batch_size, 9);
    assert_eq!(config.import.default_region.as_deref(), Some("GB"));
}

#[test]
fn invalid_values_name_the_key() {
    let error =
        Config::load_from(None, vars(&[("REKINDLE_WORKER_BATCH_SIZE", "lots")])).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("REKINDLE_WORKER_BATCH_SIZE"), "{text}");
    assert!(text.contains("lots"), "{text}");

    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "[worker]\nbach_size = 7").unwrap();
    let error = Config::load_from(Some(file.path()), vars(&[])).unwrap_err();
    assert!(error.to_string().contains("bach_size"), "{error}");
}

#[test]
fn llm_defaults_to_offline() {
    let config = Config::load_from(None, vars(&[])).unwrap();
    assert_eq!(config.llm.provider, LlmProviderKind::Offline);
    assert_eq!(config.llm.max_retries, 2);
    assert_eq!(config.llm.structured_output, StructuredOutput::JsonSchema);
    assert!(config.llm.prices.is_empty());
}

#[test]
fn llm_reads_environment() {
    let config = Config::load_from(
        None,
        vars(&[
            ("REKINDLE_LLM_PROVIDER", "anthropic"),
            ("REKINDLE_LLM_BASE_URL", "http://127.0.0.1:9999"),
            ("REKINDLE_LLM_API_KEY", "sk-ant-test-key-123"),
            ("REKINDLE_LLM_MODEL", "claude-haiku"),
            ("REKINDLE_LLM_WRITER_MODEL", "claude-sonnet"),
            ("REKINDLE_LLM_TIMEOUT_SECONDS", "9"),
            ("REKINDLE_LLM_MAX_RETRIES", "0"),
            ("REKINDLE_LLM_MAX_TOKENS", "700"),
            ("REKINDLE_LLM_STRUCTURED_OUTPUT", "none"),
            (
                "REKINDLE_LLM_PRICES",
                "claude-haiku=0.8:4,claude-sonnet=3:15",
            ),
            ("REKINDLE_LLM_DAILY_BUDGET_USD_PRO", "3.25"),
            ("REKINDLE_LLM_ACCOUNT_CONCURRENCY", "3"),
            ("REKINDLE_LLM_GLOBAL_CONCURRENCY", "12"),
        ]),
    )
    .unwrap();

    let llm = &config.llm;
    assert_eq!(llm.provider, LlmProviderKind::Anthropic);
    assert_eq!(llm.base_url.as_deref(), Some("http://127.0.0.1:9999"));
    assert_eq!(
        llm.api_key.as_ref().map(Secret::expose),
        Some("sk-ant-test-key-123")
    );
    assert_eq!(llm.model.as_deref(), Some("claude-haiku"));
    assert_eq!(llm.writer_model.as_deref(), Some("claude-sonnet"));
    assert_eq!(llm.classifier_model, None);
    assert_eq!(llm.timeout_seconds, 9);
    assert_eq!(llm.max_retries, 0);
    assert_eq!(llm.max_tokens, 700);
    assert_eq!(llm.structured_output, StructuredOutput::None);
    assert_eq!(llm.prices["claude-sonnet"].output_usd_per_million, 15.0);
    assert_eq!(llm.daily_budget_usd.pro, 3.25);
    assert_eq!(llm.daily_budget_usd.starter, 0.5);
    assert_eq!(llm.account_concurrency, 3);
    assert_eq!(llm.global_concurrency, 12);
}

#[test]
fn llm_api_key_from_file_is_redacted() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "sk-file-key-abcdef").unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let config = Config::load_from(None, vars(&[("REKINDLE_LLM_API_KEY_FILE", &path)])).unwrap();
    assert_eq!(
        config.llm.api_key.as_ref().map(Secret::expose),
        Some("sk-file-key-abcdef")
    );
    let debug = format!("{config:?}");
    assert!(!debug.contains("sk-file-key"), "{debug}");
}

#[test]
fn llm_rejects_invalid_values() {
    for (key, value) in [
        ("REKINDLE_LLM_PROVIDER", "gemini"),
        ("REKINDLE_LLM_STRUCTURED_OUTPUT", "xml"),
        ("REKINDLE_LLM_PRICES", "gpt-4o-mini=cheap"),
        ("REKINDLE_LLM_DAILY_BUDGET_USD_STARTER", "-1"),
        ("REKINDLE_LLM_GLOBAL_CONCURRENCY", "0"),
        ("REKINDLE_LLM_BASE_URL", "not a url"),
    ] {
        let error = Config::load_from(None, vars(&[(key, value)])).unwrap_err();
        assert!(error.to_string().contains(key), "{key}: {error}");
    }
}

#[test]
fn llm_section_from_toml() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "[llm]\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nstructured_output = \"json_object\"\n\
         [llm.prices.\"gpt-4o-mini\"]\ninput_usd_per_million = 0.15\noutput_usd_per_million = 0.6\n\
         [llm.daily_budget_usd]\nenterprise = 40.0"
    )
    .unwrap();
    let config = Config::load_from(Some(file.path()), vars(&[])).unwrap();
    assert_eq!(config.llm.provider, LlmProviderKind::Openai);
    assert_eq!(config.llm.structured_output, StructuredOutput::JsonObject);
    assert_eq!(config.llm.prices["gpt-4o-mini"].input_usd_per_million, 0.15);
    assert_eq!(config.llm.daily_budget_usd.enterprise, 40.0);
    assert_eq!(config.llm.daily_budget_usd.pro, 2.0);
}

#[test]
fn llm_prices_accept_whole_numbers() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "[llm.prices.\"llama3.1:8b\"]\ninput_usd_per_million = 0\noutput_usd_per_million = 0"
    )
    .unwrap();
    let config = Config::load_from(Some(file.path()), vars(&[])).unwrap();
    assert_eq!(config.llm.prices["llama3.1:8b"].output_usd_per_million, 0.0);
}

#[test]
fn webhook_keys_read_from_environment() {
    let config = Config::load_from(
        None,
        vars(&[
            ("REKINDLE_PUBLIC_BASE_URL", "https://rekindle.example.com/"),
            ("REKINDLE_TWILIO_ACCOUNT_SID", "AC1"),
            ("REKINDLE_TWILIO_AUTH_TOKEN", "first-token"),
            (
                "REKINDLE_WEBHOOK_TWILIO_AUTH_TOKENS",
                "AC2:second-token, AC3:third",
            ),
            ("REKINDLE_WEBHOOK_STRIPE_TOLERANCE_SECONDS", "120"),
            ("REKINDLE_WEBHOOK_INBOUND_DOMAIN", "@Reply.Example.com"),
        ]),
    )
    .unwrap();
    assert_eq!(
        config.twilio_status_url(),
        "https://rekindle.example.com/webhooks/twilio/status"
    );
    let tokens = config.twilio_auth_tokens().unwrap();
    let sids: Vec<&str> = tokens.iter().map(|(sid, _)| sid.as_str()).collect();
    assert_eq!(sids, ["AC1", "AC2", "AC3"]);
    assert_eq!(tokens[1].1.expose(), "second-token");
    assert_eq!(config.webhooks.stripe_tolerance_seconds, 120);
    assert_eq!(
        config.webhooks.inbound_domain.as_deref(),
        Some("reply.example.com")
    );
    assert_eq!(config.webhooks.sendgrid_tolerance_seconds, 259_200);
}

#[test]
fn webhook_token_list_must_be_pairs() {
    let config = Config::load_from(
        None,
        vars(&[("REKINDLE_WEBHOOK_TWILIO_AUTH_TOKENS", "no-colon-here")]),
    )
    .unwrap();
    let error = config.twilio_auth_tokens().unwrap_err();
    assert!(error.to_string().contains("AccountSid:token"), "{error}");
    assert!(!error.to_string().contains("no-colon-here"), "{error}");
}
