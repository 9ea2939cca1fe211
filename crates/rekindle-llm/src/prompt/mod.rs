//! Safe prompts. Lead, account and reply text is untrusted: it comes from
//! third parties' CSV files and emails. It never enters the system prompt,
//! only data blocks in the user message, and every value is cleaned first:
//! control and invisible characters removed, angle brackets escaped so no
//! value can forge a block's tag, instruction-like phrases neutralised,
//! links removed where the field asks for it, and the length capped.

mod blocks;
mod sanitise;

pub use blocks::{
    Boundary, DataBlock, DataField, LinkPolicy, MAX_CORRECTION_CHARS, MAX_FIELDS_PER_BLOCK,
    render_user_message,
};
pub use sanitise::{
    LINK_REMOVED, NEUTRALISED, cap_at_word, escape_markup, neutralise_instructions,
    remove_invisible, replace_links, sanitise,
};
