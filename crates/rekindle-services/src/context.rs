use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rekindle_channels::{
    EmailTransport, LinkSigner, OutboxEmailTransport, OutboxSmsTransport, ReplyAddressSigner,
    SmsTransport, TrackingSigner,
};
use rekindle_crews::{CrewConfig, ReactivationCrew};
use rekindle_domain::Phone;
use rekindle_domain::throttle::ThrottleSettings;
use rekindle_store::Store;
use tokio::sync::Semaphore;

use crate::ai::AiAgents;

/// Settings the services need from the configuration.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// Base URL of the public pages, for unsubscribe links.
    pub public_base_url: String,
    /// Domain used on the right of generated Message-IDs.
    pub message_id_domain: String,
    /// Time between two sends of one campaign.
    pub send_spacing: Duration,
    /// Attempts before a job is dead-lettered.
    pub max_attempts: i32,
    /// How long a claimed job stays leased.
    pub job_lease: Duration,
    /// Jobs claimed per poll.
    pub batch_size: u32,
    /// Provider calls in flight at once in this process, across its worker
    /// loops.
    pub send_concurrency: usize,
    /// Days an unsubscribe link stays valid.
    pub unsubscribe_valid_days: u32,
    /// Caps per sending identity and recipient domain, and the warm-up ramp.
    pub throttle: ThrottleSettings,
    /// Domain of the Reply-To addresses that name their message; `None` lets
    /// replies go to the sender address.
    pub reply_domain: Option<String>,
    /// Sender number of text messages when the account has no SMS identity.
    pub default_sms_from: Option<Phone>,
    /// Sender number of WhatsApp messages when the account has no WhatsApp
    /// identity.
    pub default_whatsapp_from: Option<Phone>,
    /// Seconds after delivery within which an open counts as a likely
    /// machine open (a mail privacy proxy or a security scanner).
    pub machine_open_seconds: u64,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            public_base_url: "https://localhost:8080".into(),
            message_id_domain: "rekindle.localhost".into(),
            send_spacing: Duration::from_secs(30),
            max_attempts: 5,
            job_lease: Duration::from_secs(300),
            batch_size: 20,
            send_concurrency: 2,
            unsubscribe_valid_days: 180,
            throttle: ThrottleSettings::default(),
            reply_domain: None,
            default_sms_from: None,
            default_whatsapp_from: None,
            machine_open_seconds: 10,
        }
    }
}

/// Everything a service call needs: the store, the transports, the crew and
/// the settings. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub email: Arc<dyn EmailTransport>,
    pub sms: Arc<dyn SmsTransport>,
    /// WhatsApp messages: the same interface as SMS, its own transport.
    pub whatsapp: Arc<dyn SmsTransport>,
    /// The reactivation crew: its time limits, lead concurrency and its own
    /// (offline) writer. With an LLM configured, each batch runs with its
    /// account's LLM writer from `ai` instead.
    pub crew: Arc<ReactivationCrew>,
    /// The LLM writer and reply classifier per account, or the offline ones.
    pub ai: AiAgents,
    pub links: Arc<LinkSigner>,
    /// Signs the open pixel and click redirects of tracked emails.
    pub tracking: Arc<TrackingSigner>,
    pub reply_addresses: Arc<ReplyAddressSigner>,
    /// Permits for provider calls, `settings.send_concurrency` of them. A send
    /// holds one only during its provider call, so the database work of other
    /// sends runs meanwhile.
    pub send_slots: Arc<Semaphore>,
    pub settings: AppSettings,
}

impl App {
    /// Builds an app that delivers into a local outbox directory and writes offline.
    pub fn with_outbox(
        store: Arc<dyn Store>,
        outbox: PathBuf,
        master_key: &[u8],
        settings: AppSettings,
    ) -> Result<Self, crate::ServiceError> {
        let invalid_key = |e| crate::ServiceError::Invalid(format!("invalid master key: {e}"));
        let links = LinkSigner::new(master_key).map_err(invalid_key)?;
        let tracking = TrackingSigner::new(master_key).map_err(invalid_key)?;
        let reply_addresses = ReplyAddressSigner::new(master_key).map_err(invalid_key)?;
        Ok(Self {
            store,
            email: Arc::new(OutboxEmailTransport::new(outbox.join("email"))),
            sms: Arc::new(OutboxSmsTransport::new(outbox.join("sms"))),
            whatsapp: Arc::new(OutboxSmsTransport::new(outbox.join("whatsapp"))),
            crew: Arc::new(ReactivationCrew::offline(CrewConfig::default())),
            ai: AiAgents::offline(),
            links: Arc::new(links),
            tracking: Arc::new(tracking),
            reply_addresses: Arc::new(reply_addresses),
            send_slots: Arc::new(Semaphore::new(settings.send_concurrency.max(1))),
            settings,
        })
    }
}
