package emulator

import "encoding/json"

// Threat protection, which the emulator stores but does not act on: risk
// configuration, log delivery configuration, and auth events (there are none,
// advanced security not being emulated).

type riskInput struct {
	UserPoolID string `json:"UserPoolId"`
	ClientID   string `json:"ClientId"`
}

func (e *Emulator) opDescribeRiskConfiguration(c *call, in *riskInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	rec := map[string]any{"UserPoolId": p.ID}
	if in.ClientID != "" {
		rec["ClientId"] = in.ClientID
	}
	if raw, ok := p.stored("risk")[in.ClientID]; ok {
		_ = json.Unmarshal(raw, &rec)
	}
	return map[string]any{"RiskConfiguration": rec}, nil
}

func (e *Emulator) opSetRiskConfiguration(c *call, in *riskInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	if in.ClientID != "" {
		if _, err := p.client(in.ClientID); err != nil {
			return nil, err
		}
	}
	rec := reqFields(c.body)
	rec["LastModifiedDate"] = epoch(c.now)
	if err := e.putStored(p, "risk", in.ClientID, rec); err != nil {
		return nil, err
	}
	return map[string]any{"RiskConfiguration": rec}, nil
}

func (e *Emulator) opGetLogDeliveryConfiguration(c *call, in *poolIDInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	rec := map[string]any{"UserPoolId": p.ID, "LogConfigurations": []any{}}
	if raw, ok := p.stored("logDelivery")[""]; ok {
		_ = json.Unmarshal(raw, &rec)
	}
	return map[string]any{"LogDeliveryConfiguration": rec}, nil
}

func (e *Emulator) opSetLogDeliveryConfiguration(c *call, in *poolIDInput) (any, error) {
	p, err := e.pool(in.UserPoolID)
	if err != nil {
		return nil, err
	}
	rec := reqFields(c.body)
	if _, ok := rec["LogConfigurations"].([]any); !ok {
		return nil, errInvalidParameter("1 validation error detected: Value null at 'logConfigurations' failed to satisfy constraint: Member must not be null")
	}
	if err := e.putStored(p, "logDelivery", "", rec); err != nil {
		return nil, err
	}
	return map[string]any{"LogDeliveryConfiguration": rec}, nil
}

type authEventsInput struct {
	adminUserInput
	MaxResults int `json:"MaxResults"`
}

func (e *Emulator) opAdminListUserAuthEvents(c *call, in *authEventsInput) (any, error) {
	if _, _, err := e.poolUser(in.adminUserInput); err != nil {
		return nil, err
	}
	return map[string]any{"AuthEvents": []any{}}, nil
}

type authEventFeedbackInput struct {
	adminUserInput
	EventID       string `json:"EventId"`
	FeedbackToken string `json:"FeedbackToken"`
	FeedbackValue string `json:"FeedbackValue"`
}

func checkFeedbackValue(v string) error {
	if v != "Valid" && v != "Invalid" {
		return errInvalidParameter("1 validation error detected: Value '%s' at 'feedbackValue' failed to satisfy constraint: Member must satisfy enum value set: [Valid, Invalid]", clip(v))
	}
	return nil
}

// The emulator records no auth events (no advanced security), so feedback on
// one always names an event that does not exist.
func (e *Emulator) opAdminUpdateAuthEventFeedback(c *call, in *authEventFeedbackInput) (any, error) {
	if _, _, err := e.poolUser(in.adminUserInput); err != nil {
		return nil, err
	}
	if err := checkFeedbackValue(in.FeedbackValue); err != nil {
		return nil, err
	}
	return nil, errResourceNotFound("Auth event %s does not exist.", clip(in.EventID))
}

func (e *Emulator) opUpdateAuthEventFeedback(c *call, in *authEventFeedbackInput) (any, error) {
	if _, _, err := e.poolUser(in.adminUserInput); err != nil {
		return nil, err
	}
	if err := checkFeedbackValue(in.FeedbackValue); err != nil {
		return nil, err
	}
	return nil, errResourceNotFound("Auth event %s does not exist.", clip(in.EventID))
}
