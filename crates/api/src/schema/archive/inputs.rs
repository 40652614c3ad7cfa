//! The inputs of the archive and incident mutations: what each change
//! records, and how it is recorded ([`RecordAction`]).

use async_graphql::InputObject;
use chrono::{DateTime, NaiveDate, Utc};

use crate::schema::types::{EscalationLevel, TouchpointStage};

/// How an archive or incident change is recorded.
#[derive(InputObject, Default)]
pub struct RecordAction {
    /// When it really happened; never in the future.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The record's version last seen: a stale one gets `CONFLICT`.
    pub expected_version: Option<u64>,
    /// Makes a retry safe: the same key returns the first result.
    pub idempotency_key: Option<String>,
}

macro_rules! record_input {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $f:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(InputObject)]
        pub struct $name {
            $($(#[$fm])* pub $f: $ty,)*
            /// When, on which version, with which idempotency key.
            #[graphql(flatten)]
            pub on: RecordAction,
        }
    };
}

record_input!(
    /// `registerProject`.
    RegisterProjectInput {
        /// Project code.
        project_id: String,
        /// Name.
        name: String,
        /// City.
        city: String,
        /// Business calendar its clocks run on.
        #[graphql(default_with = "\"cn-mainland\".to_string()")]
        calendar: String,
    }
);
record_input!(
    /// `registerContractor`.
    RegisterContractorInput {
        /// Company code (what dispatches and contractor tokens name).
        contractor_id: String,
        /// Company name.
        name: String,
        /// The trades it works in (empty: any).
        #[graphql(default)]
        trades: Vec<crate::schema::types::Trade>,
    }
);
record_input!(
    /// `registerEngineer`.
    RegisterEngineerInput {
        /// The engineer's user id (what their token names).
        engineer_id: String,
        /// Their work name.
        name: String,
    }
);
record_input!(
    /// `registerBuilding`.
    RegisterBuildingInput {
        /// The project.
        project_id: String,
        /// Building code.
        building_id: String,
        /// Name ("3号楼").
        name: String,
    }
);
record_input!(
    /// `chooseProjectReferenceData`.
    ChooseProjectReferenceDataInput {
        /// The project.
        project_id: String,
        /// A business calendar id (a city's local arrangements); left out:
        /// unchanged.
        calendar_id: Option<String>,
        /// A service policy id; left out: unchanged.
        policy_id: Option<String>,
        /// A warranty rules id; left out: unchanged.
        warranty_id: Option<String>,
        /// The first day (in the calendar's zone) a ticket received uses
        /// it.
        effective_from: NaiveDate,
        /// Why (the city company's decision, a contract).
        reason: String,
    }
);
record_input!(
    /// `registerUnit`.
    RegisterUnitInput {
        /// Unit code.
        unit_id: String,
        /// The project.
        project_id: String,
        /// The building (registered in the project).
        building_id: String,
        /// Room number ("1502").
        number: String,
    }
);
record_input!(
    /// `recordDelivery`.
    RecordDeliveryInput {
        /// The unit.
        unit_id: String,
        /// Delivery date (交付日期): warranty periods count from it.
        delivered_on: NaiveDate,
    }
);
record_input!(
    /// `correctDelivery`.
    CorrectDeliveryInput {
        /// The unit.
        unit_id: String,
        /// The right delivery date.
        delivered_on: NaiveDate,
        /// Why the recorded one was wrong.
        reason: String,
    }
);
record_input!(
    /// `registerOwner`.
    RegisterOwnerInput {
        /// Owner code.
        owner_id: String,
        /// Family name (姓).
        family_name: String,
        /// Given name (名).
        #[graphql(default)]
        given_name: String,
        /// Phone.
        phone: String,
        /// Resident identity card number.
        id_number: Option<String>,
    }
);
record_input!(
    /// `linkOwnerToUnit`.
    LinkOwnerToUnitInput {
        /// The owner.
        owner_id: String,
        /// The unit.
        unit_id: String,
        /// Contract signing date.
        contract_signed_on: NaiveDate,
        /// Touchpoint stage.
        stage: TouchpointStage,
    }
);
record_input!(
    /// `changeOwnerContact`.
    ChangeOwnerContactInput {
        /// The owner.
        owner_id: String,
        /// The new phone.
        phone: String,
    }
);
record_input!(
    /// `changeTouchpointStage`.
    ChangeTouchpointStageInput {
        /// The owner.
        owner_id: String,
        /// The unit.
        unit_id: String,
        /// The new stage.
        stage: TouchpointStage,
    }
);
record_input!(
    /// `openIncident`.
    OpenIncidentInput {
        /// Incident code; generated when absent.
        incident_id: Option<String>,
        /// The project.
        project_id: String,
        /// Short title.
        title: String,
        /// Level it is handled at.
        level: EscalationLevel,
        /// What is known.
        description: String,
    }
);
record_input!(
    /// `updateIncident`.
    UpdateIncidentInput {
        /// The incident.
        incident_id: String,
        /// What was done, what is next.
        note: String,
    }
);
record_input!(
    /// `closeIncident`.
    CloseIncidentInput {
        /// The incident.
        incident_id: String,
        /// Outcome and corrective and preventive actions.
        summary: String,
    }
);
