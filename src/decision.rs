//! The access decision: a pure function of the access list, the presented card and `now`.
//!
//! No I/O and no clock: the door controller passes the time in, tests pass made-up times.
//! A refusal is an ordinary answer ([`Decision::Refused`]) carrying the rule that refused,
//! never an error.

use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};

use crate::model::{Credential, CredentialId, CredentialStatus, DoorId, PersonId, RightId};
use crate::schedule::Schedule;

/// One card as the door sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub credential_id: CredentialId,
    pub person_id: PersonId,
    pub status: CredentialStatus,
    /// The holder's rights; shared by all of the holder's cards.
    pub rights: Arc<[Right]>,
    /// The holder's PIN hash, for card + PIN doors.
    pub pin_hash: Option<Arc<str>>,
    /// A visitor badge: the escort whose own grant at the door must come just before it.
    pub escort: Option<PersonId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Right {
    pub id: RightId,
    pub doors: Box<[DoorId]>,
    /// Valid while `valid_from <= now < valid_until`.
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// `None`: any time of the week.
    pub schedule: Option<Arc<Schedule>>,
}

/// An immutable copy of the access list. Cloning is cheap (a persistent map shares its
/// structure), which is what lets a change publish a new snapshot in O(log n).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub timezone: chrono_tz::Tz,
    entries: imbl::HashMap<Credential, Arc<Entry>>,
}

impl Snapshot {
    pub fn new(timezone: chrono_tz::Tz) -> Self {
        Snapshot {
            timezone,
            entries: imbl::HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, credential: &Credential) -> Option<&Arc<Entry>> {
        self.entries.get(credential)
    }

    pub fn insert(&mut self, credential: Credential, entry: Entry) {
        self.entries.insert(credential, Arc::new(entry));
    }

    pub fn remove(&mut self, credential: &Credential) {
        self.entries.remove(credential);
    }
}

/// The live access list: readers load it without locks, writers publish whole snapshots.
pub struct AccessList {
    current: ArcSwap<Snapshot>,
}

impl AccessList {
    pub fn new(snapshot: Snapshot) -> Self {
        AccessList {
            current: ArcSwap::from_pointee(snapshot),
        }
    }

    pub fn load(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// Applies a change to a copy and publishes it. Callers serialise writers (the store's
    /// admin connection lock), so no update is lost.
    pub fn update(&self, change: impl FnOnce(&mut Snapshot)) {
        let mut next = Snapshot::clone(&self.current.load());
        change(&mut next);
        self.current.store(Arc::new(next));
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Granted {
        credential_id: CredentialId,
        person_id: PersonId,
        right_id: RightId,
        /// A visitor badge's escort: the door lets it in only right after the escort.
        escort: Option<PersonId>,
        /// Let in, but the register line keeps why it is worth a look (anti-passback in
        /// `log` mode).
        warning: Option<Reason>,
    },
    Refused {
        reason: Reason,
        /// Known when the card is in the access list, so the register can name the holder.
        credential_id: Option<CredentialId>,
        person_id: Option<PersonId>,
    },
}

impl Decision {
    pub fn is_granted(&self) -> bool {
        matches!(self, Decision::Granted { .. })
    }

    pub fn reason(&self) -> Reason {
        match self {
            Decision::Granted { warning, .. } => warning.unwrap_or(Reason::Granted),
            Decision::Refused { reason, .. } => *reason,
        }
    }

    pub fn person_id(&self) -> Option<PersonId> {
        match self {
            Decision::Granted { person_id, .. } => Some(*person_id),
            Decision::Refused { person_id, .. } => *person_id,
        }
    }

    pub fn credential_id(&self) -> Option<CredentialId> {
        match self {
            Decision::Granted { credential_id, .. } => Some(*credential_id),
            Decision::Refused { credential_id, .. } => *credential_id,
        }
    }

    /// A refusal that is not about the card (the register could not be written).
    pub fn refused(reason: Reason) -> Self {
        Decision::Refused {
            reason,
            credential_id: None,
            person_id: None,
        }
    }
}

/// Why a tap was granted or refused. The code is stable: it is stored in the register and
/// appears in the API and in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Granted,
    UnknownCredential,
    CredentialSuspended,
    CredentialLost,
    CredentialRevoked,
    NoRightForDoor,
    NotYetValid,
    Expired,
    OutsideSchedule,
    /// The card answered but its identity could not be read.
    UnreadableCard,
    /// The register could not record the tap, so the door stayed locked.
    RegisterUnavailable,
    /// The register cannot be written (disk full) and its in-memory queue of held lines is
    /// full: a grant now might never be recorded, so the door stays locked.
    RegisterFull,
    /// Card + PIN door: the card is good, the PIN is still being typed (an interim answer,
    /// never a register line).
    PinRequired,
    /// Card + PIN door: the holder has no PIN set.
    PinNotSet,
    WrongPin,
    /// No PIN (ended with `#`) within `pin.timeout_seconds`, or the card was abandoned.
    PinTimeout,
    /// Too many wrong PINs; locked out for `pin.lockout_seconds`.
    PinLocked,
    /// A visitor badge without its escort's grant at the door just before it.
    NoEscort,
    /// Entering again without an exit since the last entry (anti-passback). A refusal at a
    /// door in `enforce` mode; in `log` mode the warning on a grant.
    AntiPassback,
}

impl Reason {
    pub const ALL: [Reason; 19] = [
        Reason::Granted,
        Reason::UnknownCredential,
        Reason::CredentialSuspended,
        Reason::CredentialLost,
        Reason::CredentialRevoked,
        Reason::NoRightForDoor,
        Reason::NotYetValid,
        Reason::Expired,
        Reason::OutsideSchedule,
        Reason::UnreadableCard,
        Reason::RegisterUnavailable,
        Reason::RegisterFull,
        Reason::PinRequired,
        Reason::PinNotSet,
        Reason::WrongPin,
        Reason::PinTimeout,
        Reason::PinLocked,
        Reason::NoEscort,
        Reason::AntiPassback,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Reason::Granted => "granted",
            Reason::UnknownCredential => "unknown_credential",
            Reason::CredentialSuspended => "credential_suspended",
            Reason::CredentialLost => "credential_lost",
            Reason::CredentialRevoked => "credential_revoked",
            Reason::NoRightForDoor => "no_right_for_door",
            Reason::NotYetValid => "not_yet_valid",
            Reason::Expired => "expired",
            Reason::OutsideSchedule => "outside_schedule",
            Reason::UnreadableCard => "unreadable_card",
            Reason::RegisterUnavailable => "register_unavailable",
            Reason::RegisterFull => "register_full",
            Reason::PinRequired => "pin_required",
            Reason::PinNotSet => "pin_not_set",
            Reason::WrongPin => "wrong_pin",
            Reason::PinTimeout => "pin_timeout",
            Reason::PinLocked => "pin_locked",
            Reason::NoEscort => "no_escort",
            Reason::AntiPassback => "anti_passback",
        }
    }

    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The label office staff read in Indonesian reports.
    pub fn label_id(self) -> &'static str {
        match self {
            Reason::Granted => "diizinkan",
            Reason::UnknownCredential => "kartu tidak dikenal",
            Reason::CredentialSuspended => "kartu diblokir sementara",
            Reason::CredentialLost => "kartu dilaporkan hilang",
            Reason::CredentialRevoked => "kartu sudah dicabut",
            Reason::NoRightForDoor => "tidak punya hak akses pintu ini",
            Reason::NotYetValid => "hak akses belum berlaku",
            Reason::Expired => "hak akses sudah berakhir",
            Reason::OutsideSchedule => "di luar jadwal akses",
            Reason::UnreadableCard => "kartu tidak terbaca",
            Reason::RegisterUnavailable => "register tidak dapat ditulis",
            Reason::RegisterFull => "register tidak dapat ditulis dan antreannya penuh",
            Reason::PinRequired => "menunggu PIN",
            Reason::PinNotSet => "PIN belum diatur",
            Reason::WrongPin => "PIN salah",
            Reason::PinTimeout => "PIN tidak dimasukkan",
            Reason::PinLocked => "PIN terkunci karena salah berulang kali",
            Reason::NoEscort => "pengunjung tanpa pendamping",
            Reason::AntiPassback => "masuk lagi tanpa tercatat keluar (anti-passback)",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Reason::Granted => "granted",
            Reason::UnknownCredential => "unknown card",
            Reason::CredentialSuspended => "card suspended",
            Reason::CredentialLost => "card reported lost",
            Reason::CredentialRevoked => "card revoked",
            Reason::NoRightForDoor => "no right for this door",
            Reason::NotYetValid => "right not yet valid",
            Reason::Expired => "right expired",
            Reason::OutsideSchedule => "outside schedule",
            Reason::UnreadableCard => "card could not be read",
            Reason::RegisterUnavailable => "register could not be written",
            Reason::RegisterFull => "register cannot be written and its queue is full",
            Reason::PinRequired => "waiting for PIN",
            Reason::PinNotSet => "no PIN set",
            Reason::WrongPin => "wrong PIN",
            Reason::PinTimeout => "PIN not entered",
            Reason::PinLocked => "locked out after wrong PINs",
            Reason::NoEscort => "visitor without escort",
            Reason::AntiPassback => "entered again without an exit (anti-passback)",
        }
    }
}

/// Decides whether `credential` may pass `door` at `now`.
pub fn decide(
    snapshot: &Snapshot,
    door: DoorId,
    credential: &Credential,
    now: DateTime<Utc>,
) -> Decision {
    let Some(entry) = snapshot.get(credential) else {
        return Decision::refused(Reason::UnknownCredential);
    };
    let refuse = |reason| Decision::Refused {
        reason,
        credential_id: Some(entry.credential_id),
        person_id: Some(entry.person_id),
    };
    match entry.status {
        CredentialStatus::Active => {}
        CredentialStatus::Suspended => return refuse(Reason::CredentialSuspended),
        CredentialStatus::Lost => return refuse(Reason::CredentialLost),
        CredentialStatus::Revoked => return refuse(Reason::CredentialRevoked),
    }

    // With several rights for this door, the refusal names the one closest to opening it:
    // a schedule miss says more than a right that has not started, which says more than
    // one long expired.
    let mut best: Option<Reason> = None;
    let mut local = None;
    for right in entry.rights.iter().filter(|r| r.doors.contains(&door)) {
        let reason = if now < right.valid_from {
            Reason::NotYetValid
        } else if now >= right.valid_until {
            Reason::Expired
        } else {
            match &right.schedule {
                None => return grant(entry, right),
                Some(schedule) => {
                    let local = *local
                        .get_or_insert_with(|| now.with_timezone(&snapshot.timezone).naive_local());
                    if schedule.allows(local) {
                        return grant(entry, right);
                    }
                    Reason::OutsideSchedule
                }
            }
        };
        best = Some(match best {
            Some(b) if rank(b) >= rank(reason) => b,
            _ => reason,
        });
    }
    refuse(best.unwrap_or(Reason::NoRightForDoor))
}

fn rank(reason: Reason) -> u8 {
    match reason {
        Reason::OutsideSchedule => 3,
        Reason::NotYetValid => 2,
        Reason::Expired => 1,
        _ => 0,
    }
}

fn grant(entry: &Entry, right: &Right) -> Decision {
    Decision::Granted {
        credential_id: entry.credential_id,
        person_id: entry.person_id,
        right_id: right.id,
        escort: entry.escort,
        warning: None,
    }
}

#[cfg(test)]
mod tests;
