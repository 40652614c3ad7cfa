//! Identifiers: short and safe, and checked when deserialized.

use std::fmt::Debug;
use std::str::FromStr;

use domain::ids::*;
use domain::DomainError;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Runs the same checks on every identifier type.
fn check_identifier<T>(kind: &str)
where
    T: FromStr<Err = DomainError> + TryFrom<String, Error = DomainError> + Debug + ToString,
    T: Serialize + DeserializeOwned + Into<String> + Clone + PartialEq,
{
    for good in ["HZ-01-3-1502", "T_2025.0001", "ns:42", "滨江-1", &"a".repeat(64)] {
        let id = T::from_str(good).unwrap_or_else(|e| panic!("{kind} {good:?} refused: {e}"));
        assert_eq!(id.to_string(), good);
        assert_eq!(T::try_from(good.to_string()).unwrap(), id);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{good}\""));
        assert_eq!(serde_json::from_str::<T>(&format!("\"{good}\"")).unwrap(), id);
        let text: String = id.into();
        assert_eq!(text, good);
    }

    let err = T::from_str("").err().unwrap();
    assert_eq!(
        err.to_string(),
        format!("invalid {kind}: \"\" is not a valid {kind}: it is empty")
    );

    let long = "a".repeat(65);
    let err = T::from_str(&long).err().unwrap();
    assert!(err.to_string().contains("it is 65 bytes long (at most 64)"), "{err}");
    // The limit is in bytes: 21 three-byte characters fit, 22 do not.
    assert!(T::from_str(&"滨".repeat(21)).is_ok());
    assert!(T::from_str(&"滨".repeat(22)).is_err());

    for bad in [
        "T 1", " T-1", "T-1\n", "HZ/1", "..\\x", "T-1?x=1", "T#1", "T%201", "T-1;drop",
    ] {
        let err = T::from_str(bad)
            .err()
            .unwrap_or_else(|| panic!("{kind} {bad:?} accepted"));
        assert!(
            err.to_string()
                .contains("(letters, digits, '-', '_', '.' and ':' only)"),
            "{kind} {bad:?}: {err}"
        );
        let json = serde_json::to_string(bad).unwrap();
        let err = serde_json::from_str::<T>(&json)
            .err()
            .unwrap_or_else(|| panic!("{kind} {bad:?} deserialized"));
        assert!(err.to_string().contains(&format!("not a valid {kind}")), "{err}");
    }
    let err = T::from_str("HZ/1").err().unwrap();
    assert!(err.to_string().contains("it contains '/'"), "{err}");
    assert!(serde_json::from_str::<T>("\"\"").is_err());
    assert!(serde_json::from_str::<T>(&format!("\"{long}\"")).is_err());
    assert!(serde_json::from_str::<T>("42").is_err());
}

#[test]
fn identifiers_are_short_and_safe_in_names_and_urls() {
    check_identifier::<TicketId>("ticket id");
    check_identifier::<ProjectId>("project id");
    check_identifier::<BuildingId>("building id");
    check_identifier::<UnitId>("unit id");
    check_identifier::<OwnerId>("owner id");
    check_identifier::<IncidentId>("incident id");
    check_identifier::<UserId>("user id");
    check_identifier::<ContractorId>("contractor id");
}

#[test]
fn an_identifier_debugs_with_its_type() {
    assert_eq!(format!("{:?}", TicketId::new("T-1").unwrap()), "TicketId(\"T-1\")");
    assert_eq!(UnitId::new("HZ-1-3-1502").unwrap().as_str(), "HZ-1-3-1502");
    assert_eq!(MAX_ID_LEN, 64);
}

#[test]
fn invalid_identifiers_inside_an_event_fail_to_deserialize() {
    let json = r#"{"TicketLinked":{"ticket":"T/1"}}"#;
    let err = serde_json::from_str::<domain::incident::IncidentEvent>(json).unwrap_err();
    assert!(err.to_string().contains("not a valid ticket id"), "{err}");
    let json = r#"{"TicketLinked":{"ticket":"T-1"}}"#;
    assert!(serde_json::from_str::<domain::incident::IncidentEvent>(json).is_ok());
}
