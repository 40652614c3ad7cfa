//! `Personal` never prints its value, and how it is serialized.

use domain::actor::Role;
use domain::archive::OwnerEvent;
use domain::decider::Stamped;
use domain::ids::*;
use domain::personal::{IdNumber, Personal, PhoneNumber, Sealed};
use domain::testing::fixtures::{bj, reporter, staff};
use domain::ticket::Channel;

use super::*;

#[test]
fn debug_of_personal_data_never_shows_the_value() {
    let phone = Personal::new(phone("13812345678"));
    let person = Personal::new(name("欧阳", "娜娜"));
    let id = Personal::new(IdNumber::new(&mainland_id(123)).unwrap());
    for shown in [
        format!("{phone:?}"),
        format!("{phone:#?}"),
        format!("{person:?}"),
        format!("{id:?}"),
    ] {
        assert_eq!(shown, "Personal(<personal>)");
    }

    // Nor inside the records and events that carry it.
    let event = Stamped {
        occurred_at: bj("2025-09-30 10:00"),
        actor: staff(Role::Admin),
        channel: Channel::BackOffice,
        event: OwnerEvent::OwnerRegistered {
            owner: OwnerId::new("O-1").unwrap(),
            name: person.clone(),
            phone: phone.clone(),
            id_number: Some(id.clone()),
        },
        text_seals: Vec::new(),
    };
    let reporter = reporter();
    for shown in [format!("{event:?}"), format!("{event:#?}"), format!("{reporter:#?}")] {
        for secret in [
            "13812345678",
            "1234",
            "欧阳",
            "娜娜",
            "小明",
            "19850712",
            &mainland_id(123),
        ] {
            assert!(!shown.contains(secret), "{secret:?} shows in {shown}");
        }
        assert!(shown.contains("<personal>"), "{shown}");
    }
}

#[test]
fn personal_data_serializes_in_clear_or_sealed_and_reads_schema_1() {
    let phone = Personal::new(phone("138 1234 5678"));
    assert_eq!(serde_json::to_string(&phone).unwrap(), r#"{"Clear":"13812345678"}"#);
    assert_eq!(phone.expose().unwrap().as_str(), "13812345678");
    assert_eq!(phone.clone().into_inner().unwrap().as_str(), "13812345678");
    assert!(phone.as_sealed().is_none());

    // Sealed: opaque bytes, never shown, nothing to expose or mask.
    let sealed = Personal::<PhoneNumber>::sealed(Sealed {
        subject: "owner-O-1".into(),
        nonce: vec![7; 24],
        ciphertext: vec![1, 2, 3],
    });
    assert!(sealed.expose().is_none());
    assert!(sealed.masked().is_none());
    assert_eq!(format!("{sealed:?}"), "Personal(<sealed for owner-O-1>)");
    let config = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&sealed, config).unwrap();
    let (back, _): (Personal<PhoneNumber>, usize) = bincode::serde::decode_from_slice(&bytes, config).unwrap();
    assert_eq!(back, sealed);

    // Schema 1 stored the bare value: it never reads as a personal value
    // (the stored format reads those payloads through their old layout,
    // `eventformat`'s schema 1 mirrors, pinned by its fixtures).
    let legacy = bincode::serde::encode_to_vec(PhoneNumber::new("13812345678").unwrap(), config).unwrap();
    assert!(bincode::serde::decode_from_slice::<Personal<PhoneNumber>, _>(&legacy, config).is_err());
}
