//! The LLM client against a mock LLM server on 127.0.0.1, compiled into one
//! test binary.

mod budget;
mod output;
mod retries;
mod support;
mod wire_anthropic;
mod wire_openai;
