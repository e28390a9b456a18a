//! Settings from the AWS shared config files (`~/.aws/credentials`, `~/.aws/config`), as the
//! AWS CLI reads them: the profile named by `AWS_PROFILE` (else `default`); variables in the
//! environment win over the files.

use std::path::PathBuf;

/// The values of one profile that an S3 read needs.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Profile {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

impl Profile {
    /// The profile `AWS_PROFILE` names (or `default`) from `AWS_SHARED_CREDENTIALS_FILE` /
    /// `AWS_CONFIG_FILE` (or their `~/.aws/` defaults); missing files give an empty profile.
    pub fn from_env() -> Self {
        let name = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let file = |var: &str, default: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default()
        };
        let credentials = file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
        let config = file("AWS_CONFIG_FILE", "config");
        let mut profile = Self::default();
        // The credentials file names sections `[name]`, the config file `[profile name]`
        // (except `[default]`); the credentials file wins where both set a key.
        profile.fill(&credentials, &name);
        let config_section = if name == "default" {
            name.clone()
        } else {
            format!("profile {name}")
        };
        profile.fill(&config, &config_section);
        profile
    }

    /// Sets the keys of `section` in the INI `text` that are still unset.
    fn fill(&mut self, text: &str, section: &str) {
        let mut inside = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                inside = name.trim() == section;
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if !inside {
                continue;
            }
            let value = Some(value.trim().to_string());
            let slot = match key.trim().to_ascii_lowercase().as_str() {
                "aws_access_key_id" => &mut self.access_key_id,
                "aws_secret_access_key" => &mut self.secret_access_key,
                "aws_session_token" => &mut self.session_token,
                "region" => &mut self.region,
                "endpoint_url" => &mut self.endpoint_url,
                _ => continue,
            };
            if slot.is_none() {
                *slot = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Profile;

    #[test]
    fn reads_the_named_section_and_keeps_first_values() {
        let credentials = "[default]\naws_access_key_id = AKDEF\n\n[work]\n\
                           aws_access_key_id=AKWORK\naws_secret_access_key = s3cr3t\n";
        let config = "[default]\nregion = us-east-1\n[profile work]\nregion = eu-central-1\n\
                      endpoint_url = http://127.0.0.1:9000\n# comment\n";
        let mut p = Profile::default();
        p.fill(credentials, "work");
        p.fill(config, "profile work");
        assert_eq!(p.access_key_id.as_deref(), Some("AKWORK"));
        assert_eq!(p.secret_access_key.as_deref(), Some("s3cr3t"));
        assert_eq!(p.region.as_deref(), Some("eu-central-1"));
        assert_eq!(p.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(p.session_token, None);
    }
}
