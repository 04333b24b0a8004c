//! AWS region codes.

use std::fmt;

use super::InputError;

/// An AWS region code such as `ap-southeast-1`, checked by its shape rather than against a
/// list, so that new regions need no release of amirun.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Region(String);

impl Region {
    /// Accepts `<partition prefix->area-direction-number`, for example `us-east-1`,
    /// `ap-southeast-3`, `us-gov-west-1` or `cn-north-1`.
    pub fn parse(value: &str) -> Result<Self, InputError> {
        let parts: Vec<&str> = value.split('-').collect();
        let shape_ok = (3..=4).contains(&parts.len())
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[0].len() == 2
            && is_region_number(parts[parts.len() - 1]);
        if shape_ok {
            return Ok(Self(value.to_owned()));
        }
        Err(InputError::new(
            "region",
            value,
            "a region code looks like `ap-southeast-1`: lowercase letters, dashes and a number",
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_region_number(part: &str) -> bool {
    !part.is_empty() && part.len() <= 2 && part.bytes().all(|b| b.is_ascii_digit())
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_shapes() {
        for ok in [
            "us-east-1",
            "ap-southeast-3",
            "us-gov-west-1",
            "eu-central-2",
            "cn-north-1",
            "us-isob-east-1",
            "il-central-1",
        ] {
            assert!(Region::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "useast1",
            "US-EAST-1",
            "us-east",
            "us-east-1a",
            "singapore",
            "us_east_1",
            "u-east-1",
            "us-east-100",
            "us--1",
            "ap-south-east-asia-1",
        ] {
            assert_eq!(
                Region::parse(bad).unwrap_err().to_string(),
                format!("invalid region `{bad}`: a region code looks like `ap-southeast-1`: lowercase letters, dashes and a number"),
            );
        }
    }
}
