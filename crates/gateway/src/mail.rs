//! A strict encoder for the plain-text emails `/notify` sends: no field a notification carries
//! can add a header, end the message early or smuggle an SMTP command.
//!
//! - Addresses (the sender and each recipient) must be a bare `local@domain` of printable
//!   ASCII with none of the characters that delimit addresses or headers (`<>()[],;:\"`,
//!   spaces, control characters); anything else is refused before a connection is made.
//! - The subject is always RFC 2047 encoded (`=?utf-8?B?…?=`, base64), so CR, LF or any other
//!   byte in it stays inside the one header.
//! - The body is sent base64-encoded (`Content-Transfer-Encoding: base64`) in 76-character
//!   lines, so no line of the DATA section can be `.` or carry a bare CR or LF.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Why a message cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An address is not a bare `local@domain`.
    #[error("{role} address {address:?} is not a plain local@domain address")]
    InvalidAddress {
        /// `sender` or `recipient`.
        role: &'static str,
        /// The address as given.
        address: String,
    },
    /// No recipient was given.
    #[error("no recipient")]
    NoRecipient,
}

/// Longest address accepted (RFC 5321's path limit).
const MAX_ADDRESS: usize = 254;
/// Length of a base64 line in the body.
const LINE: usize = 76;

/// A message ready for SMTP: checked addresses and the DATA section (headers and encoded
/// body, CRLF line ends, ending with the `.` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The checked sender, for `MAIL FROM`.
    pub from: String,
    /// The checked recipients, for `RCPT TO`.
    pub to: Vec<String>,
    /// The DATA section, terminator included.
    pub data: String,
}

/// Checks `address` as a bare `local@domain`.
///
/// # Errors
/// [`Error::InvalidAddress`] for anything else.
pub fn address(role: &'static str, address: &str) -> Result<String, Error> {
    let invalid = || Error::InvalidAddress {
        role,
        address: address.to_owned(),
    };
    let allowed = |c: char| c.is_ascii_graphic() && !"<>()[],;:\\\"".contains(c);
    let (local, domain) = address.split_once('@').ok_or_else(invalid)?;
    let valid = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && address.len() <= MAX_ADDRESS
        && address.chars().all(allowed);
    valid.then(|| address.to_owned()).ok_or_else(invalid)
}

/// Encodes one message.
///
/// # Errors
/// An invalid sender or recipient, or no recipient.
pub fn encode(from: &str, to: &[String], subject: &str, body: &str) -> Result<Message, Error> {
    let from = address("sender", from)?;
    let to = to
        .iter()
        .map(|a| address("recipient", a))
        .collect::<Result<Vec<_>, _>>()?;
    if to.is_empty() {
        return Err(Error::NoRecipient);
    }
    let mut data = format!(
        "From: <{from}>\r\nTo: {}\r\nSubject: =?utf-8?B?{}?=\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        to.iter()
            .map(|a| format!("<{a}>"))
            .collect::<Vec<_>>()
            .join(", "),
        STANDARD.encode(subject),
    );
    let encoded = STANDARD.encode(body);
    for chunk in encoded.as_bytes().chunks(LINE) {
        // base64 is ASCII: every chunk is valid UTF-8.
        data.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        data.push_str("\r\n");
    }
    data.push_str(".\r\n");
    Ok(Message { from, to, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The header lines of a DATA section (up to the blank line).
    fn headers(data: &str) -> Vec<&str> {
        data.split("\r\n").take_while(|l| !l.is_empty()).collect()
    }

    #[test]
    fn plain_addresses_pass_and_anything_that_could_break_out_is_refused() {
        assert!(address("sender", "ork@example.com").is_ok());
        assert!(address("sender", "ops+alerts@a.b.c").is_ok());
        for bad in [
            "",
            "no-at-sign",
            "@example.com",
            "ops@",
            "a@b@c",
            "ops@x\r\nRCPT TO:<evil@x>",
            "ops@x>\r\nDATA",
            "ops@x\nBcc: evil@x",
            "ops @x",
            "ops@x,evil@y",
            "\"ops\"@x",
            "ops@x\0",
            "öps@x",
        ] {
            assert!(address("recipient", bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}@x", "a".repeat(300));
        assert!(address("recipient", &long).is_err());
    }

    #[test]
    fn a_subject_with_crlf_stays_one_encoded_header() {
        let subject = "[ork] app ns/x: Ready=False\r\nBcc: evil@x\r\n\r\nforged body";
        let m = encode("ork@x", &to(&["ops@x"]), subject, "hi").unwrap();
        let h = headers(&m.data);
        assert_eq!(h.len(), 6, "{h:?}");
        assert!(!m.data.contains("Bcc"), "{}", m.data);
        let encoded = h[2]
            .strip_prefix("Subject: =?utf-8?B?")
            .and_then(|s| s.strip_suffix("?="))
            .unwrap();
        assert_eq!(STANDARD.decode(encoded).unwrap(), subject.as_bytes());
    }

    #[test]
    fn no_body_can_end_the_data_section_or_smuggle_a_command() {
        for body in [
            "line\r\n.\r\nMAIL FROM:<evil@x>\r\n",
            "line\n.\nRCPT TO:<evil@x>",
            "line\r.\rQUIT",
            ".",
            "",
        ] {
            let m = encode("ork@x", &to(&["ops@x"]), "s", body).unwrap();
            let lines: Vec<&str> = m.data.split("\r\n").collect();
            // Only the terminator is a lone dot, and it is the last line.
            let dots: Vec<usize> = (0..lines.len()).filter(|&i| lines[i] == ".").collect();
            assert_eq!(dots, [lines.len() - 2], "{body:?}: {lines:?}");
            assert!(!m.data.replace("\r\n", "").contains(['\r', '\n']));
            let blank = lines.iter().position(|l| l.is_empty()).unwrap();
            let decoded = STANDARD
                .decode(lines[blank + 1..lines.len() - 2].concat())
                .unwrap();
            assert_eq!(decoded, body.as_bytes());
        }
    }

    #[test]
    fn an_invalid_recipient_or_none_refuses_the_whole_message() {
        let err = encode("ork@x", &to(&["ops@x", "evil@x>\r\nDATA"]), "s", "b").unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidAddress {
                role: "recipient",
                ..
            }
        ));
        assert_eq!(encode("ork@x", &[], "s", "b"), Err(Error::NoRecipient));
        assert!(encode("ork@x\r\n", &to(&["ops@x"]), "s", "b").is_err());
    }
}
