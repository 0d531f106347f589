//! The typed webhook event: its envelope fields and the payload of each known event name.

use serde_json::Value;

/// The typed content of an event.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum EventPayload {
    /// The URL check; answered automatically.
    VerifyWebhook {
        /// The challenge, as sent.
        challenge: Value,
    },
    /// A video was published.
    CreateVideo {
        /// The item id.
        item_id: String,
        /// The share id.
        share_id: Option<String>,
    },
    /// A user authorized the app.
    Authorize {
        /// The scopes granted.
        scopes: Vec<String>,
    },
    /// A user revoked the app.
    Unauthorize {
        /// The scopes revoked.
        scopes: Vec<String>,
    },
    /// `im_receive_msg` (content as sent).
    ImReceiveMsg(Value),
    /// `im_send_msg`.
    ImSendMsg(Value),
    /// `im_enter_direct_msg`.
    ImEnterDirectMsg(Value),
    /// `enter_group_audit_change`.
    EnterGroupAuditChange(Value),
    /// `group_fans_event`.
    GroupFansEvent(Value),
    /// `contract_authorize`.
    ContractAuthorize(Value),
    /// `contract_unauthorize`.
    ContractUnauthorize(Value),
    /// `new_video_digg`.
    NewVideoDigg(Value),
    /// `new_follow_action`.
    NewFollowAction(Value),
    /// Any other event: its content as sent.
    Raw(Value),
}

/// A verified, parsed event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event name (`create_video`, or a name this crate does not know).
    pub name: String,
    /// The `Msg-Id` header.
    pub msg_id: Option<String>,
    /// `from_user_id`.
    pub from_user_id: Option<String>,
    /// `to_user_id`.
    pub to_user_id: Option<String>,
    /// `client_key`.
    pub client_key: Option<String>,
    /// `log_id`.
    pub log_id: Option<String>,
    /// `content`, decoded when it arrived as a JSON string.
    pub content: Value,
    /// The typed content.
    pub payload: EventPayload,
}
