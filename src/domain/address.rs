//! Facts about addresses that every layer needs: which of them are our own mailboxes.

use super::EmailAddress;

/// Whether an address is one of our mailboxes, or a plus-address of one (`support+1000-x@…`).
pub fn is_ours(addr: &EmailAddress, ours: &[EmailAddress]) -> bool {
    let base = match addr.local_part().split_once('+') {
        Some((local, _)) => format!("{local}@{}", addr.domain()),
        None => addr.to_string(),
    };
    ours.iter().any(|o| o.as_str() == base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_addresses_of_our_mailboxes_are_ours() {
        let ours = [EmailAddress::parse("support@shop.test").unwrap()];
        for (a, expected) in
            [("support@shop.test", true), ("support+1000-ab@shop.test", true), ("sales@shop.test", false)]
        {
            assert_eq!(is_ours(&EmailAddress::parse(a).unwrap(), &ours), expected, "{a}");
        }
    }
}
