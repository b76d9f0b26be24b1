//! `Authentication-Results` (RFC 8601) from trusted receivers: did DKIM or DMARC fail for this mail?

/// The failing method (`dkim=fail`, `dmarc=fail` …) reported by a trusted `authserv-id`, if any.
pub fn trusted_failure(headers: &[String], trusted: &[String]) -> Option<String> {
    headers.iter().find_map(|h| {
        let (authserv, results) = h.split_once(';')?;
        let authserv = authserv.split_whitespace().next()?.to_ascii_lowercase();
        if !trusted.iter().any(|t| t.trim().eq_ignore_ascii_case(&authserv)) {
            return None;
        }
        results.split(';').map(str::trim).find_map(|r| {
            let (method, value) = r.split_once('=')?;
            let method = method.trim().to_ascii_lowercase();
            let value = value.split_whitespace().next()?.to_ascii_lowercase();
            let bad = matches!(method.as_str(), "dkim" | "dmarc") && matches!(value.as_str(), "fail" | "permerror");
            bad.then(|| format!("{authserv}: {method}={value}"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::trusted_failure;

    fn trusted() -> Vec<String> {
        vec!["mx.example.com".into()]
    }

    #[test]
    fn a_trusted_dkim_or_dmarc_failure_is_found() {
        let h = vec![
            "mx.example.com; spf=pass smtp.mailfrom=x; dkim=fail (bad signature) header.d=example.com; dmarc=fail"
                .to_string(),
        ];
        assert_eq!(trusted_failure(&h, &trusted()).as_deref(), Some("mx.example.com: dkim=fail"));
    }

    #[test]
    fn untrusted_servers_and_passes_count_for_nothing() {
        let forged = vec!["evil.example; dkim=pass".to_string(), "other.example; dkim=fail".to_string()];
        assert_eq!(trusted_failure(&forged, &trusted()), None);
        let pass = vec!["mx.example.com 1; dkim=pass header.d=example.com; dmarc=pass".to_string()];
        assert_eq!(trusted_failure(&pass, &trusted()), None);
        assert_eq!(trusted_failure(&pass, &[]), None);
    }
}
