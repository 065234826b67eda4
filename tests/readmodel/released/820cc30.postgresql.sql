-- The read model's schema as release 820cc30 made it on postgresql (ReadModel.create_schema: create_all
-- of readmodel/tables.py, then the full-text index): no alembic_version table.
CREATE TABLE complaint (
	id VARCHAR NOT NULL,
	workflow_id VARCHAR NOT NULL,
	status VARCHAR NOT NULL,
	category VARCHAR NOT NULL,
	category_group VARCHAR NOT NULL,
	urgency VARCHAR NOT NULL,
	urgent_reasons JSON,
	level INTEGER NOT NULL,
	level_reasons JSON,
	priority VARCHAR NOT NULL,
	priority_reasons JSON,
	channel VARCHAR NOT NULL,
	channel_message_id VARCHAR,
	received_at TIMESTAMP WITH TIME ZONE NOT NULL,
	filed_at TIMESTAMP WITH TIME ZONE NOT NULL,
	filed_by VARCHAR NOT NULL,
	lead_unit VARCHAR NOT NULL,
	tracking_number VARCHAR,
	nature VARCHAR NOT NULL,
	complainant_name VARCHAR NOT NULL,
	complainant_phone VARCHAR NOT NULL,
	phone_key VARCHAR,
	complainant_tier VARCHAR NOT NULL,
	sender JSON,
	recipient JSON,
	contents JSON,
	demand VARCHAR,
	description VARCHAR NOT NULL,
	evidence JSON,
	handling_round INTEGER NOT NULL,
	one_time_resolution BOOLEAN NOT NULL,
	closed_at TIMESTAMP WITH TIME ZONE,
	clocks JSON,
	next_due TIMESTAMP WITH TIME ZONE,
	overdue_since TIMESTAMP WITH TIME ZONE,
	missed_clocks INTEGER NOT NULL,
	complex_case BOOLEAN NOT NULL,
	plan JSON,
	is_repeat BOOLEAN NOT NULL,
	repeat_of JSON,
	last_seq INTEGER NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_complaint_category ON complaint (category);
CREATE INDEX ix_complaint_category_channel_received ON complaint (category, channel, received_at);
CREATE INDEX ix_complaint_category_received ON complaint (category, received_at);
CREATE INDEX ix_complaint_channel ON complaint (channel);
CREATE INDEX ix_complaint_channel_received ON complaint (channel, received_at);
CREATE INDEX ix_complaint_closed_at ON complaint (closed_at);
CREATE INDEX ix_complaint_closed_measures ON complaint (closed_at, status, one_time_resolution, missed_clocks);
CREATE INDEX ix_complaint_complainant_phone ON complaint (complainant_phone);
CREATE INDEX ix_complaint_is_repeat ON complaint (is_repeat);
CREATE INDEX ix_complaint_lead_unit ON complaint (lead_unit);
CREATE INDEX ix_complaint_lead_unit_received ON complaint (lead_unit, received_at);
CREATE INDEX ix_complaint_level ON complaint (level);
CREATE INDEX ix_complaint_next_due ON complaint (next_due);
CREATE INDEX ix_complaint_overdue_since ON complaint (overdue_since);
CREATE INDEX ix_complaint_phone_key ON complaint (phone_key);
CREATE INDEX ix_complaint_priority_next_due ON complaint (priority, next_due);
CREATE INDEX ix_complaint_received_at ON complaint (received_at);
CREATE INDEX ix_complaint_received_repeat ON complaint (received_at, is_repeat);
CREATE INDEX ix_complaint_status ON complaint (status);
CREATE INDEX ix_complaint_status_received ON complaint (status, received_at);
CREATE INDEX ix_complaint_tracking_number ON complaint (tracking_number);
CREATE INDEX ix_complaint_urgency ON complaint (urgency);
CREATE TABLE contact (
	id VARCHAR NOT NULL,
	workflow_id VARCHAR NOT NULL,
	kind VARCHAR NOT NULL,
	status VARCHAR NOT NULL,
	channel VARCHAR NOT NULL,
	channel_message_id VARCHAR,
	received_at TIMESTAMP WITH TIME ZONE NOT NULL,
	filed_at TIMESTAMP WITH TIME ZONE NOT NULL,
	filed_by VARCHAR NOT NULL,
	desk_unit VARCHAR NOT NULL,
	customer_name VARCHAR NOT NULL,
	customer_phone VARCHAR NOT NULL,
	customer_tier VARCHAR NOT NULL,
	tracking_number VARCHAR,
	description VARCHAR NOT NULL,
	location VARCHAR,
	evidence JSON,
	handed_to VARCHAR,
	clocks JSON,
	missed_clocks INTEGER NOT NULL,
	closed_at TIMESTAMP WITH TIME ZONE,
	last_seq INTEGER NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_contact_desk_unit ON contact (desk_unit);
CREATE INDEX ix_contact_handed_to ON contact (handed_to);
CREATE INDEX ix_contact_kind ON contact (kind);
CREATE INDEX ix_contact_received_at ON contact (received_at);
CREATE INDEX ix_contact_status ON contact (status);
CREATE INDEX ix_contact_tracking_number ON contact (tracking_number);
CREATE TABLE dispatch (
	id VARCHAR NOT NULL,
	complaint_id VARCHAR NOT NULL,
	kind VARCHAR NOT NULL,
	priority VARCHAR NOT NULL,
	unit VARCHAR NOT NULL,
	status VARCHAR NOT NULL,
	instruction VARCHAR NOT NULL,
	raised_by VARCHAR NOT NULL,
	raised_at TIMESTAMP WITH TIME ZONE NOT NULL,
	due TIMESTAMP WITH TIME ZONE,
	due_local VARCHAR,
	answered_at TIMESTAMP WITH TIME ZONE,
	in_time BOOLEAN,
	late_working_minutes INTEGER,
	returns INTEGER NOT NULL,
	escalation_level INTEGER NOT NULL,
	finding VARCHAR,
	failing_link VARCHAR,
	replaces VARCHAR,
	last_seq INTEGER NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_dispatch_complaint_id ON dispatch (complaint_id);
CREATE INDEX ix_dispatch_due ON dispatch (due);
CREATE INDEX ix_dispatch_escalation_level ON dispatch (escalation_level);
CREATE INDEX ix_dispatch_kind ON dispatch (kind);
CREATE INDEX ix_dispatch_raised_at ON dispatch (raised_at);
CREATE INDEX ix_dispatch_status ON dispatch (status);
CREATE INDEX ix_dispatch_unit ON dispatch (unit);
CREATE TABLE dispatch_event (
	id VARCHAR NOT NULL,
	dispatch_id VARCHAR NOT NULL,
	complaint_id VARCHAR NOT NULL,
	seq INTEGER NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	actor_id VARCHAR NOT NULL,
	actor_role VARCHAR NOT NULL,
	actor_unit VARCHAR NOT NULL,
	action VARCHAR NOT NULL,
	from_status VARCHAR,
	to_status VARCHAR NOT NULL,
	detail JSON,
	PRIMARY KEY (id)
);
CREATE INDEX ix_dispatch_event_action_at ON dispatch_event (action, at);
CREATE INDEX ix_dispatch_event_complaint_id ON dispatch_event (complaint_id);
CREATE INDEX ix_dispatch_event_dispatch_id ON dispatch_event (dispatch_id);
CREATE TABLE duplicate_claim (
	key VARCHAR NOT NULL,
	complaint_id VARCHAR NOT NULL,
	received_at TIMESTAMP WITH TIME ZONE NOT NULL,
	claimed_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (key)
);
CREATE TABLE idempotency_key (
	key VARCHAR NOT NULL,
	caller VARCHAR NOT NULL,
	fingerprint VARCHAR NOT NULL,
	case_id VARCHAR NOT NULL,
	claimed_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (key)
);
CREATE TABLE judgement (
	id VARCHAR NOT NULL,
	complaint_id VARCHAR NOT NULL,
	status VARCHAR NOT NULL,
	lead_unit VARCHAR NOT NULL,
	category VARCHAR NOT NULL,
	opened_at TIMESTAMP WITH TIME ZONE NOT NULL,
	responsible_office VARCHAR,
	party VARCHAR,
	at_fault_unit VARCHAR,
	fault_type VARCHAR,
	proposal_reason VARCHAR,
	acting_unit VARCHAR,
	due TIMESTAMP WITH TIME ZONE,
	due_local VARCHAR,
	reminder_at TIMESTAMP WITH TIME ZONE,
	reminders INTEGER NOT NULL,
	sent_at TIMESTAMP WITH TIME ZONE,
	answered_at TIMESTAMP WITH TIME ZONE,
	in_time BOOLEAN,
	city_branch VARCHAR,
	failing_link VARCHAR,
	smallest_unit VARCHAR,
	appealed_at TIMESTAMP WITH TIME ZONE,
	appeal_reason VARCHAR,
	appeal_branch VARCHAR,
	decided_at TIMESTAMP WITH TIME ZONE,
	at_fault BOOLEAN,
	invalid_appeal BOOLEAN NOT NULL,
	response_overdue BOOLEAN NOT NULL,
	arbitration_overdue BOOLEAN NOT NULL,
	final_at TIMESTAMP WITH TIME ZONE,
	last_seq INTEGER NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_judgement_acting_unit ON judgement (acting_unit);
CREATE INDEX ix_judgement_complaint_id ON judgement (complaint_id);
CREATE INDEX ix_judgement_due ON judgement (due);
CREATE INDEX ix_judgement_final_at ON judgement (final_at);
CREATE INDEX ix_judgement_office_sent ON judgement (responsible_office, sent_at);
CREATE INDEX ix_judgement_responsible_office ON judgement (responsible_office);
CREATE INDEX ix_judgement_sent_at ON judgement (sent_at);
CREATE INDEX ix_judgement_status ON judgement (status);
CREATE TABLE judgement_event (
	id VARCHAR NOT NULL,
	judgement_id VARCHAR NOT NULL,
	complaint_id VARCHAR NOT NULL,
	seq INTEGER NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	actor_id VARCHAR NOT NULL,
	actor_role VARCHAR NOT NULL,
	actor_unit VARCHAR NOT NULL,
	action VARCHAR NOT NULL,
	from_status VARCHAR,
	to_status VARCHAR NOT NULL,
	detail JSON,
	PRIMARY KEY (id)
);
CREATE INDEX ix_judgement_event_complaint_id ON judgement_event (complaint_id);
CREATE INDEX ix_judgement_event_judgement_id ON judgement_event (judgement_id);
CREATE TABLE knowledge_entry (
	complaint_id VARCHAR NOT NULL,
	category VARCHAR NOT NULL,
	problem VARCHAR NOT NULL,
	demand VARCHAR,
	solution VARCHAR NOT NULL,
	outcome VARCHAR NOT NULL,
	handling_round INTEGER NOT NULL,
	one_time_resolution BOOLEAN NOT NULL,
	closed_at TIMESTAMP WITH TIME ZONE NOT NULL,
	terms VARCHAR NOT NULL,
	PRIMARY KEY (complaint_id)
);
CREATE INDEX ix_knowledge_entry_category ON knowledge_entry (category);
CREATE INDEX ix_knowledge_entry_closed_at ON knowledge_entry (closed_at);
CREATE INDEX ix_knowledge_entry_outcome ON knowledge_entry (outcome);
CREATE TABLE outbox_message (
	id VARCHAR NOT NULL,
	case_id VARCHAR NOT NULL,
	step VARCHAR NOT NULL,
	recipient_id VARCHAR NOT NULL,
	recipient_role VARCHAR NOT NULL,
	recipient_unit VARCHAR NOT NULL,
	passed_up_from VARCHAR,
	channel VARCHAR NOT NULL,
	address VARCHAR NOT NULL,
	subject VARCHAR NOT NULL,
	body VARCHAR NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	attempts INTEGER NOT NULL,
	last_error VARCHAR,
	delivered_at TIMESTAMP WITH TIME ZONE,
	status VARCHAR NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_outbox_message_target UNIQUE (case_id, step, recipient_id, channel)
);
CREATE INDEX ix_outbox_message_case_id ON outbox_message (case_id);
CREATE INDEX ix_outbox_message_status ON outbox_message (status);
CREATE TABLE requirement (
	id VARCHAR NOT NULL,
	complaint_id VARCHAR NOT NULL,
	category VARCHAR NOT NULL,
	channel VARCHAR NOT NULL,
	suggestion VARCHAR NOT NULL,
	demand VARCHAR,
	received_at TIMESTAMP WITH TIME ZONE NOT NULL,
	forwarded_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_requirement_category ON requirement (category);
CREATE INDEX ix_requirement_complaint_id ON requirement (complaint_id);
CREATE INDEX ix_requirement_received_at ON requirement (received_at);
CREATE TABLE timeline_event (
	id VARCHAR NOT NULL,
	complaint_id VARCHAR NOT NULL,
	seq INTEGER NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	actor_id VARCHAR NOT NULL,
	actor_name VARCHAR NOT NULL,
	actor_role VARCHAR NOT NULL,
	actor_unit VARCHAR NOT NULL,
	action VARCHAR NOT NULL,
	from_status VARCHAR,
	to_status VARCHAR NOT NULL,
	detail JSON,
	PRIMARY KEY (id)
);
CREATE INDEX ix_timeline_event_action_at ON timeline_event (action, at);
CREATE INDEX ix_timeline_event_complaint_id ON timeline_event (complaint_id);
CREATE INDEX IF NOT EXISTS ix_knowledge_entry_terms ON knowledge_entry USING GIN (to_tsvector('english'::regconfig, terms));
